"""A message with a picture (the digest's chart) reaches Slack as its DM text followed by the
picture, uploaded with files_upload_v2 over the real HTTP path (getUploadURLExternal, the
upload, completeUploadExternal); a resend sends neither part twice."""

from __future__ import annotations

from datetime import timedelta

from bot.cli.demo_org import DOMAIN
from bot.slack.notifier import image_file_name
from flows.messages import Image, Message, message_to_json
from storage import outbox
from tests.slack.conftest import Harness
from tests.slack.test_delivery import dms_to, statuses

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
KEY = "digest:3:2026-W48"


def enqueue_digest(harness: Harness) -> None:
    now = harness.app.clock.now()
    with harness.app.engine.begin() as conn:
        outbox.enqueue(conn, key=KEY, kind="slack", target=f"alice@{DOMAIN}", now=now,
                       payload={"tenant": "T0TEAM", "message": message_to_json(Message(
                           "Weekly digest: coverage 50%", to=f"alice@{DOMAIN}",
                           image=Image(PNG, "Trends over 5 weeks", "digest-2026-W48.png")))})


def shared_files(harness: Harness) -> list[dict[str, object]]:
    return [f for m in harness.fake.history.get("D0ALICE", []) for f in m.get("files", [])]


async def test_the_text_then_the_picture_in_the_same_dm(harness: Harness) -> None:
    fake = harness.fake
    enqueue_digest(harness)
    assert await harness.slack.gateway.outbox.run_once() == 1
    assert dms_to(fake, "alice") == ["Weekly digest: coverage 50%"]
    [asked] = fake.of("files.getUploadURLExternal")
    assert asked.args["filename"] == image_file_name(KEY) == "digest-3-2026-W48.png"
    assert asked.args["alt_txt"] == "Trends over 5 weeks"
    [uploaded] = fake.of("upload")
    [done] = fake.of("files.completeUploadExternal")
    assert done.args["channel_id"] == "D0ALICE"
    assert [f["id"] for f in done.args["files"]] == [uploaded.args["file_id"]]
    assert fake.files[uploaded.args["file_id"]]["data"] == PNG  # the bytes, as sent
    assert [f["name"] for f in shared_files(harness)] == ["digest-3-2026-W48.png"]
    order = [c.method for c in fake.calls if c.method in (
        "chat.postMessage", "files.getUploadURLExternal", "upload",
        "files.completeUploadExternal")]
    assert order == ["chat.postMessage", "files.getUploadURLExternal", "upload",
                     "files.completeUploadExternal"]
    assert uploaded.args["length"] == len(PNG)
    assert statuses(harness) == {KEY: "sent"}


async def test_a_picture_refused_after_the_text_is_sent_alone_on_the_retry(
        harness: Harness) -> None:
    app, fake = harness.app, harness.fake
    fake.clock = lambda: app.clock.now().timestamp()
    enqueue_digest(harness)
    fake.fail("files.getUploadURLExternal", 503, 3)  # refused through the client's retries
    delivery = harness.slack.gateway.outbox
    assert await delivery.run_once() == 0
    assert dms_to(fake, "alice") == ["Weekly digest: coverage 50%"]
    assert shared_files(harness) == [] and statuses(harness) == {KEY: "pending"}
    app.clock.set(app.clock.now() + timedelta(minutes=5))
    assert await delivery.run_once() == 1
    assert dms_to(fake, "alice") == ["Weekly digest: coverage 50%"]  # not posted again
    assert [f["name"] for f in shared_files(harness)] == [image_file_name(KEY)]
    assert statuses(harness) == {KEY: "sent"}
    # a further resend (the mark lost once more) finds both parts: sends nothing
    mark_pending_again(harness)
    app.clock.set(app.clock.now() + timedelta(minutes=5))
    assert await delivery.run_once() == 1
    assert len(fake.of("chat.postMessage")) == 1
    assert len(fake.of("files.completeUploadExternal")) == 1


def mark_pending_again(harness: Harness) -> None:
    """As if the sender died after both parts arrived, before marking the row sent."""
    from sqlalchemy import update

    from storage.models import Outbox

    with harness.app.engine.begin() as conn:
        conn.execute(update(Outbox).where(Outbox.idempotency_key == KEY)
                     .values(status="pending", not_before=harness.app.clock.now()))


async def test_a_message_without_a_picture_uploads_nothing(harness: Harness) -> None:
    now = harness.app.clock.now()
    with harness.app.engine.begin() as conn:
        outbox.enqueue(conn, key="conv:1:v2:0", kind="slack", target=f"bob@{DOMAIN}", now=now,
                       payload={"tenant": "T0TEAM", "message": message_to_json(
                           Message("Plain", to=f"bob@{DOMAIN}"))})
    assert await harness.slack.gateway.outbox.run_once() == 1
    assert dms_to(harness.fake, "bob") == ["Plain"]
    assert harness.fake.of("files.getUploadURLExternal") == []
