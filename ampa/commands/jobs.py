"""`ampa jobs list|show ID|cancel ID`: look at and cancel jobs in the job store."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="list, show and cancel jobs", description="Look at and cancel jobs.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="recent jobs, newest first")
    listing.add_argument("--limit", type=int, default=20, metavar="N")
    listing.add_argument("--platform", choices=["discord", "slack", "api", "cli"])
    listing.add_argument("--user", metavar="ID", help="only this requester")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    show = actions.add_parser("show", help="one job as JSON: status, stage, retries, history, QA reports, files")
    show.add_argument("job_id", metavar="ID")
    cancel = actions.add_parser("cancel", help="cancel a job (a running one stops at its next stage)")
    cancel.add_argument("job_id", metavar="ID")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.cli_support import CommandError, load_settings, run_command

    async def main() -> int:
        from worker.service import JobService

        settings = load_settings()
        service = await JobService.open(settings, run_jobs=False, warm_parser=False)
        try:
            if args.action == "list":
                if args.limit < 1:
                    raise CommandError("--limit must be at least 1.", 2)
                jobs = await service.list_jobs(platform=args.platform, requester_id=args.user, limit=args.limit)
                for job in jobs:
                    if args.json:
                        print(json.dumps(job.to_dict()))
                    else:
                        stage = f"/{job.stage}" if job.stage else ""
                        print(
                            f"{job.id}  {job.created_at:%Y-%m-%d %H:%M}  {job.status + stage:<22} "
                            f"{job.platform:<7} v{job.version}  {job.prompt[:60]}"
                        )
                if not jobs and not args.json:
                    print("No jobs yet.")
                return 0
            job = await service.get(args.job_id)
            if job is None:
                raise CommandError(f"No job with id {args.job_id!r}. `ampa jobs list` shows recent ones.", 1)
            if args.action == "show":
                out = job.to_dict()
                out["history"] = [e.to_dict() for e in await service.history(job.id)]
                out["queue_position"] = await service.queue_position(job.id)
                out.update(service.links.for_job(job))  # the track page and files, no token needed
                print(json.dumps(out, indent=2))
                return 0
            job = await service.cancel(job.id)
            print(f"{job.id}: {job.status}" + (" (stops at its next stage)" if not job.status.is_terminal else ""))
            return 0
        finally:
            await service.close()

    return run_command(main)
