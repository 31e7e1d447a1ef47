"""Language identification: the text decides, the feed's declared language is a hint."""

import pytest

from pipeline.cleaning.language import bcp47, detect_language

EN = "The ceasefire in Aleppo held overnight as aid convoys entered the eastern districts of the city."
DE = "Die Waffenruhe in Aleppo hielt über Nacht, als Hilfskonvois die östlichen Bezirke der Stadt erreichten."
FR = "Le cessez-le-feu a tenu toute la nuit à Alep, alors que des convois d'aide entraient dans la ville."
ES = "El alto el fuego se mantuvo durante la noche en Alepo mientras los convoyes de ayuda entraban."
RU = (
    "Перемирие в Алеппо соблюдалось всю ночь, пока колонны с гуманитарной помощью входили в восточные районы."
)
AR = "صمد وقف إطلاق النار في حلب طوال الليل بينما دخلت قوافل المساعدات إلى الأحياء الشرقية من المدينة."
ZH = "阿勒颇的停火协议在夜间得到遵守，援助车队进入了该市东部地区，当地居民表示局势有所缓和。"
JA = "アレッポの停戦は夜通し維持され、援助物資を積んだ車列が市の東部地区に入った。"

DETECTION = [
    pytest.param(EN, None, "en", id="english, no hint"),
    pytest.param(DE, None, "de", id="german, no hint"),
    pytest.param(FR, None, "fr", id="french, no hint"),
    pytest.param(ES, None, "es", id="spanish, no hint"),
    pytest.param(RU, None, "ru", id="russian (cyrillic)"),
    pytest.param(AR, None, "ar", id="arabic"),
    pytest.param(ZH, None, "zh", id="chinese (no word boundaries)"),
    pytest.param(JA, None, "ja", id="japanese"),
    pytest.param(EN, "en-gb", "en-GB", id="agreeing hint keeps its region"),
    pytest.param(DE, "en-us", "de", id="a CMS default hint is overruled by clear text"),
    pytest.param("Ceasefire talks resume\n" + DE, "de", "de", id="an English headline over German text"),
    pytest.param("Aleppo", "fr", "fr", id="too little text: the hint"),
    pytest.param("Aleppo", None, None, id="too little text, no hint: unknown"),
    pytest.param("", "pt_BR", "pt-BR", id="no text: the hint, normalised"),
    pytest.param("12:30 — 14:45 — 2026", None, None, id="no letters: unknown"),
]


@pytest.mark.parametrize(("text", "hint", "expected"), DETECTION)
def test_detect_language(text: str, hint: str | None, expected: str | None) -> None:
    assert detect_language(text, hint).lang == expected


BCP47 = [
    pytest.param("en-us", "en-US", id="region upper-cased"),
    pytest.param("EN", "en", id="language lower-cased"),
    pytest.param("zh_hant_tw", "zh-Hant-TW", id="underscores, script title-cased"),
    pytest.param(" de-DE ", "de-DE", id="surrounding space"),
    pytest.param("es-419", "es-419", id="numeric region"),
    pytest.param("english", None, id="a language name is not a tag"),
    pytest.param("x", None, id="too short"),
    pytest.param("en-<script>", None, id="markup in a subtag"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="missing"),
]


@pytest.mark.parametrize(("tag", "expected"), BCP47)
def test_bcp47(tag: str | None, expected: str | None) -> None:
    assert bcp47(tag) == expected
