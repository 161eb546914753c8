"""Prometheus metrics for `GET /metrics`, read from the job store at scrape time.

The figures live in the database (workers are separate processes), so the API takes a snapshot on
each scrape and a custom collector exposes it: jobs by status, queue depth, stage durations (a
histogram over recent successful jobs) and how many jobs needed 0, 1, 2… QA retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from worker import store
from worker.schemas import JobStatus

STAGE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)
RECENT_JOBS = 1000


@dataclass
class Snapshot:
    by_status: dict[str, int] = field(default_factory=dict)
    queue_depth: int = 0
    stage_timings: list[dict[str, float]] = field(default_factory=list)
    qa_retries: dict[int, int] = field(default_factory=dict)


class JobStoreCollector:
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            by_status = await store.count_by_status(session)
            self.snapshot = Snapshot(
                by_status=by_status,
                queue_depth=by_status.get(str(JobStatus.PENDING), 0),
                stage_timings=await store.stage_timings(session, limit=RECENT_JOBS),
                qa_retries=await store.qa_retry_counts(session),
            )

    def collect(self):
        snap = self.snapshot
        jobs = GaugeMetricFamily("ampa_jobs", "Jobs in the store by status", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([str(status)], snap.by_status.get(str(status), 0))
        yield jobs
        yield GaugeMetricFamily("ampa_queue_depth", "Jobs waiting for a worker", value=snap.queue_depth)
        stages = HistogramMetricFamily(
            "ampa_stage_duration_seconds",
            f"Stage durations over the last {RECENT_JOBS} successful jobs",
            labels=["stage"],
        )
        per_stage: dict[str, list[float]] = {}
        for timings in snap.stage_timings:
            for stage, seconds in timings.items():
                per_stage.setdefault(stage, []).append(float(seconds))
        for stage, values in sorted(per_stage.items()):
            buckets = [(str(b), sum(1 for v in values if v <= b)) for b in STAGE_BUCKETS]
            buckets.append(("+Inf", len(values)))
            stages.add_metric([stage], buckets, sum_value=sum(values))
        yield stages
        retries = GaugeMetricFamily(
            "ampa_jobs_by_qa_retries", "Finished jobs by the number of QA retries they needed", labels=["retries"]
        )
        for count, jobs_n in sorted(snap.qa_retries.items()):
            retries.add_metric([str(count)], jobs_n)
        yield retries


def build_registry() -> tuple[CollectorRegistry, JobStoreCollector]:
    registry = CollectorRegistry()
    collector = JobStoreCollector()
    registry.register(collector)
    return registry, collector


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
