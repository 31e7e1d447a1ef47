"""The default world-news taxonomy (pipeline/taxonomies/world-news.yaml): what it tags, and
just as important, what it leaves alone (docs/taxonomy.md §6)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.tagging import Tagger
from pipeline.taxonomy import load_taxonomy

ROOT = Path(__file__).parents[2]
WORLD_NEWS = ROOT / "pipeline" / "taxonomies" / "world-news.yaml"
TAXONOMY = load_taxonomy(WORLD_NEWS)
TAGGER = Tagger(TAXONOMY)


def topics(title: str, text: str) -> set[str]:
    return {tag.name for tag in TAGGER.tag(title, "", text)}


# (id, headline, body, topics that must be assigned, topics that must NOT be assigned)
CASES: list[tuple[str, str, str, set[str], set[str]]] = [
    # --- conflict, ceasefire, peace ---------------------------------------------------------
    (
        "ceasefire in the headline, truce in the body",
        "Ceasefire takes hold after weeks of fighting",
        "Mediators said the truce was holding on Sunday morning.",
        {"ceasefire"},
        {"armed-conflict", "ceasefire-violation"},
    ),
    (
        "hyphenated cease-fire",
        "Cease-fire agreed",
        "",
        {"ceasefire"},
        set(),
    ),
    (
        "French cessez-le-feu",
        "Un cessez-le-feu entre en vigueur",
        "La trêve doit durer trois jours.",
        {"ceasefire"},
        set(),
    ),
    (
        "Spanish alto el fuego",
        "Las partes acuerdan un alto el fuego",
        "",
        {"ceasefire"},
        set(),
    ),
    (
        "German Waffenstillstand",
        "Waffenstillstand vereinbart",
        "",
        {"ceasefire"},
        set(),
    ),
    (
        "Arabic wqf itlaq al-nar",
        "إعلان وقف إطلاق النار في المدينة",
        "",
        {"ceasefire"},
        set(),
    ),
    (
        "Russian peremirie, prepositional case",
        "Стороны договорились о перемирии",
        "",
        {"ceasefire"},
        set(),
    ),
    (
        "ceasefire broken by air strikes and shelling",
        "Ceasefire collapses as air strikes resume",
        "Shelling hit the northern districts overnight and the truce was violated within hours.",
        {"ceasefire", "armed-conflict", "ceasefire-violation"},
        {"labour-strike"},
    ),
    (
        "one air strike is not yet armed conflict (min_mentions 2)",
        "Village hit",
        "An air strike hit the village on Tuesday.",
        set(),
        {"armed-conflict", "labour-strike"},
    ),
    (
        "peace talks",
        "Peace talks resume in Geneva",
        "Both delegations said a peace deal was possible by the spring.",
        {"peace-process"},
        {"ceasefire"},
    ),
    (
        "suicide bombing",
        "Suicide bomber kills 12 at market",
        "Police said the suicide bombing bore the hallmarks of a jihadist group.",
        {"terrorism"},
        set(),
    ),
    (
        "military coup",
        "Army seizes power in military coup",
        "The junta leader suspended the constitution; it is the third coup d'état in a decade.",
        {"coup"},
        set(),
    ),
    (
        "nuclear programme and enrichment",
        "Talks on nuclear programme stall",
        "Inspectors from the IAEA reported further uranium enrichment at the site.",
        {"nuclear-weapons"},
        {"energy"},
    ),
    (
        "ransomware attack",
        "Ransomware attack cripples hospital network",
        "Hackers demanded payment after the cyber-attack encrypted patient records.",
        {"cyber-attacks"},
        {"armed-conflict", "epidemic"},
    ),
    # --- politics and society -----------------------------------------------------------------
    (
        "election with a result headline",
        "Opposition leader wins presidential election",
        "Turnout was high and the electoral commission confirmed the count on Monday.",
        {"elections", "election-result"},
        set(),
    ),
    (
        "election campaign, no result in the headline",
        "Election campaign enters final week",
        "Candidates crossed the country before the election on Sunday.",
        {"elections"},
        {"election-result"},
    ),
    (
        "protesters and tear gas",
        "Police fire tear gas at protesters",
        "Thousands of demonstrators marched on parliament.",
        {"protests"},
        {"labour-strike"},
    ),
    (
        "workers on strike",
        "Rail workers go on strike over pay",
        "The union said industrial action would continue next week.",
        {"labour-strike"},
        {"armed-conflict", "protests"},
    ),
    (
        "human rights and war crimes",
        "UN report documents war crimes",
        "Investigators found widespread human rights abuses and enforced disappearances.",
        {"human-rights"},
        set(),
    ),
    (
        "refugees and displacement",
        "Refugees flee across the border",
        "The UNHCR said 200,000 displaced people had reached the camps.",
        {"refugees"},
        set(),
    ),
    # --- humanitarian crises and disasters ------------------------------------------------------
    (
        "earthquake relief: disaster-relief",
        "Earthquake kills hundreds",
        "Rescuers searched the rubble after the quake as aid agencies flew in relief supplies.",
        {"earthquake", "natural-disaster", "humanitarian-aid", "disaster-relief"},
        {"armed-conflict"},
    ),
    (
        "aid in a war is not disaster-relief (NOT armed-conflict)",
        "Floods add to misery in war-torn province",
        "Flooding cut roads used by aid convoys; shelling continued and humanitarian aid is scarce.",
        {"flood", "natural-disaster", "humanitarian-aid", "armed-conflict"},
        {"disaster-relief"},
    ),
    (
        "typhoon landfall",
        "Typhoon makes landfall",
        "The typhoon brought winds of 200km/h to the coast.",
        {"storm", "natural-disaster"},
        set(),
    ),
    (
        "wildfires",
        "Wildfires force thousands to flee",
        "Crews fought bushfires on three fronts.",
        {"wildfire", "natural-disaster"},
        set(),
    ),
    (
        "drought and famine",
        "Drought pushes millions towards famine",
        "The World Food Programme warned that the drought had left children facing malnutrition.",
        {"drought", "famine", "natural-disaster"},
        set(),
    ),
    (
        "volcanic eruption",
        "Volcano erupts",
        "Lava flows reached the village and an ash cloud closed the airport.",
        {"volcano", "natural-disaster"},
        set(),
    ),
    (
        "cholera epidemic",
        "Cholera outbreak spreads",
        "Health officials said the epidemic had reached the capital.",
        {"epidemic"},
        set(),
    ),
    (
        "Russian floods, two cases",
        "Наводнение в регионе",
        "Из-за наводнения эвакуированы тысячи жителей.",
        {"flood", "natural-disaster"},
        set(),
    ),
    # --- economy ----------------------------------------------------------------------------------
    (
        "sanctions and asset freezes",
        "EU imposes new sanctions",
        "The package includes an asset freeze and further sanctions on banks.",
        {"sanctions"},
        set(),
    ),
    (
        "inflation, rates and recession",
        "Central bank raises interest rates as inflation soars",
        "Inflation reached 9% and economists warned that a recession was likely.",
        {"inflation", "monetary-policy"},
        {"economy"},
    ),
    (
        "tariffs and a trade war",
        "US imposes tariffs on steel",
        "Analysts warned of a trade war as the import tariffs took effect.",
        {"trade"},
        set(),
    ),
    (
        "oil prices",
        "Oil prices jump after OPEC cut",
        "Brent crude rose 4% as OPEC members agreed to reduce output.",
        {"energy"},
        set(),
    ),
    (
        "climate talks",
        "Climate summit ends without deal",
        "Delegates failed to agree on cutting greenhouse gas emissions to tackle climate change.",
        {"climate-change"},
        set(),
    ),
    # --- precision traps ---------------------------------------------------------------------------
    (
        "striking a deal is not a strike",
        "Firm strikes a deal with rivals",
        "The company struck an agreement after months of talks.",
        set(),
        {"labour-strike", "armed-conflict"},
    ),
    (
        "a storm of criticism",
        "Minister faces a storm of criticism",
        "The proposal drew a storm of protest from backbenchers.",
        set(),
        {"storm", "protests", "natural-disaster"},
    ),
    (
        "a goal drought",
        "Striker ends goal drought",
        "He scored twice on Saturday.",
        set(),
        {"drought", "labour-strike", "natural-disaster"},
    ),
    (
        "spread like wildfire",
        "Rumours spread like wildfire",
        "The story was shared thousands of times.",
        set(),
        {"wildfire", "natural-disaster"},
    ),
    (
        "an inbox flooded with spam",
        "Inbox flooded with spam",
        "Users reported a flood of junk emails.",
        set(),
        {"flood", "natural-disaster"},
    ),
    (
        "a transfer coup",
        "Club pulls off transfer coup",
        "Signing the striker is a real coup for the manager.",
        set(),
        {"coup"},
    ),
    (
        "a protest to the referee",
        "Team lodges protest over penalty",
        "The club protested to the referee after the match.",
        set(),
        {"protests"},
    ),
    (
        "a stock market rally",
        "Shares rally on strong earnings",
        "The rally lifted the index to a record high.",
        set(),
        {"protests"},
    ),
    (
        "awards voters are not an election",
        "Oscar voters pick their favourites",
        "Academy voters have until Tuesday to return their ballots.",
        set(),
        {"elections"},
    ),
    (
        "a phone tariff is not trade",
        "Mobile tariffs cut",
        "The operator's cheapest tariff now costs £10 a month.",
        set(),
        {"trade"},
    ),
    (
        "a computer virus is not an epidemic",
        "Computer virus epidemic hits PCs",
        "The virus spreads through e-mail attachments.",
        set(),
        {"epidemic"},
    ),
    (
        "a price war is not a war",
        "Supermarket price war deepens",
        "Rivals slashed prices again this week.",
        set(),
        {"armed-conflict"},
    ),
    (
        "front-line services are not a front line",
        "Council protects front-line services",
        "Frontline staff will not be affected by the cuts.",
        set(),
        {"armed-conflict"},
    ),
    (
        "a diplomatic answer",
        "Coach gives diplomatic answer",
        "He refused to criticise the referee.",
        set(),
        {"diplomacy"},
    ),
    (
        "one passing mention of the Bank of England",
        "Retail sales rise",
        "The figures were published a day before the Bank of England meets.",
        set(),
        {"monetary-policy"},
    ),
]


@pytest.mark.parametrize(("name", "title", "text", "present", "absent"), CASES, ids=[c[0] for c in CASES])
def test_world_news_tags(name: str, title: str, text: str, present: set[str], absent: set[str]) -> None:
    assigned = topics(title, text)
    assert present <= assigned, f"missing {present - assigned}; got {sorted(assigned)}"
    assert not absent & assigned, f"unexpected {absent & assigned}; got {sorted(assigned)}"


def test_plural_and_possessive_forms_match_singular_terms() -> None:
    assigned = topics("Earthquakes and aftershocks", "The hurricane's path; two cyclones; refugees' camps")
    assert {"earthquake", "storm", "refugees"} <= assigned


def test_a_summary_repeating_the_text_is_not_a_second_mention() -> None:
    # Broad topics set min_mentions: 2 and min_score: 2, so the title plus the larger of
    # summary and text must reach two: a passing phrase copied into the summary stays one.
    lead = "The story spread like wildfire among fans."
    assert "wildfire" not in {tag.name for tag in TAGGER.tag("Rumours swirl", lead, lead)}
    fire = "A wildfire forced hundreds to leave."
    assert "wildfire" in {tag.name for tag in TAGGER.tag("Wildfire near the coast", fire, fire)}
    assert "wildfire" in {tag.name for tag in TAGGER.tag("Fire", "", f"{fire} The wildfire spread.")}


def test_every_topic_is_described_and_none_streams() -> None:
    assert 25 <= len(TAXONOMY.topics) <= 45
    entries = yaml.safe_load(WORLD_NEWS.read_text(encoding="utf-8"))["topics"]
    for entry in entries:
        assert str(entry.get("description", "")).strip(), f"{entry['name']}: no description"
        assert "stream" not in entry, f"{entry['name']}: streams are opt-in"
    assert any(topic.query is not None for topic in TAXONOMY.topics)


def test_newsflow_taxonomy_check_accepts_the_file() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "taxonomy", "check", str(WORLD_NEWS)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert ": ok (" in result.stdout
