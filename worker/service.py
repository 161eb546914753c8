"""JobService: the one object the bots, the API and the CLI use to talk to the job system.

INTERFACE CONTRACT (the job-system work fills in the bodies; signatures are fixed):

    service = await JobService.open(settings)          # engine + queue (arq when REDIS_URL, else in-process runner)
    job = await service.submit(JobRequest(...))        # parse, check limits, persist PENDING, enqueue; raises JobRejected
    job = await service.get(job_id)                    # JobView | None
    jobs = await service.list_jobs(platform=..., requester_id=..., limit=10)
    job = await service.cancel(job_id, requester_id=...)   # raises JobRejected("not_found"/"forbidden")
    await service.set_status_message(job_id, ref)      # adapter records its status message (channel:message id, ts)
    await service.set_thread(job_id, thread_ref)       # adapter records the thread it created for results
    await service.mark_delivered(job_id)               # adapter posted the final result
    jobs = await service.undelivered(platform)         # jobs whose final state was not posted yet (bot restart)
    async for event in service.events(job_id, after_seq=0): ...
                                                       # replays history from the database, then follows live
                                                       # events until the job is terminal, then stops
    job = await service.latest_in_thread(platform, thread_ref)   # newest version in a thread
    follow = await service.follow_up(parent_job_id, reply_text, requester_id=..., client_ref=...)
                                                       # FollowUp(job|None, changes, message)
    job = await service.variation(job_id, requester_id=..., new_seed=True)  # same spec; new seed or same
    position = await service.queue_position(job_id)    # int | None (None when not waiting)
    path = service.file_path(job, "mix.mp3")           # Path of an artifact, or None
    await service.close()

Everything a user can get wrong raises `JobRejected` with a `user_message` fit to show as it is.
"""

from __future__ import annotations
