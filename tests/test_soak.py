"""The cluster soak at a size the suite can afford (bench/bench_cluster.py
runs it at 1,000 uploads and 10,000 events): three instances on one
PostgreSQL and one SeaweedFS, one killed with SIGKILL mid-way."""

from soakkit import run_soak


async def test_three_instances_one_killed_every_upload_one_verdict(tmp_path, postgres, seaweed):
    result = await run_soak(postgres.empty_database(), seaweed.env(), tmp_path, uploads=12, events=60,
                            deadline=300)
    assert result.problems() == [], "\n".join(p.read_text(errors="replace")[-1500:] for p in result.logs)
    assert len(result.verdicts) == 12 and sum(result.expected_followups.values()) == 60
