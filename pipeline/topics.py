"""Topic names: one place, shared by the agents, the poller and the admin commands."""

from __future__ import annotations

from dataclasses import dataclass

# Compaction keeps the latest feed definition and poller state per feed id; the rest are logs.
COMPACTED = frozenset({"feeds", "poller-state"})
# The near-duplicate stage compares every article with every other one, so its input topic
# has one partition whatever kafka.partitions says (docs/architecture.md §4).
# The alert rules count articles across partitions (spikes, stories, rate limits), so their
# input is one partition too.
SINGLE_PARTITION = frozenset({"dedup-near", "alert-input"})


@dataclass(frozen=True, slots=True)
class TopicNames:
    prefix: str

    def name(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    @property
    def feeds(self) -> str:
        return self.name("feeds")

    @property
    def poller_state(self) -> str:
        return self.name("poller-state")

    @property
    def raw(self) -> str:
        return self.name("raw")

    @property
    def clean(self) -> str:
        return self.name("clean")

    @property
    def near(self) -> str:
        """Exact-dedup survivors on their way to the near-duplicate stage (one partition)."""
        return self.name("dedup-near")

    @property
    def unique(self) -> str:
        return self.name("unique")

    @property
    def articles(self) -> str:
        return self.name("articles")

    @property
    def duplicates(self) -> str:
        return self.name("duplicates")

    @property
    def dead_letter(self) -> str:
        return self.name("dead-letter")

    @property
    def alert_input(self) -> str:
        """news.articles again, on one partition: the alert rules see every article."""
        return self.name("alert-input")

    @property
    def alerts(self) -> str:
        return self.name("alerts")

    @property
    def alert_retries(self) -> str:
        """Webhook deliveries waiting for their next attempt (pipeline.sinks.retry.Delivery)."""
        return self.name("alert-retries")

    def topic_stream(self, topic: str) -> str:
        """The per-topic stream of a taxonomy topic marked ``stream: true``."""
        return self.name(f"topic.{topic}")

    def all(self) -> dict[str, str]:
        """suffix → full name, for every topic the pipeline owns."""
        suffixes = (
            "feeds",
            "poller-state",
            "raw",
            "clean",
            "dedup-near",
            "unique",
            "articles",
            "duplicates",
            "dead-letter",
            "alert-input",
            "alerts",
            "alert-retries",
        )
        return {suffix: self.name(suffix) for suffix in suffixes}
