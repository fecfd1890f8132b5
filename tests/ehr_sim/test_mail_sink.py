"""The demo's mail sink keeps each message it receives as a readable .eml file."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import aiosmtplib

from ehr_sim.mail_sink import start


async def test_each_received_message_is_written_to_the_folder_as_eml(tmp_path):
    folder = tmp_path / "mail"
    server = await start(folder, port=0)
    port = server.sockets[0].getsockname()[1]
    try:
        for subject in ("First", "Second"):
            message = EmailMessage()
            message["From"] = "valueloop@localhost"
            message["To"] = "lead@hospital.test"
            message["Subject"] = subject
            message.set_content("Hello")
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
    finally:
        server.close()
        await server.wait_closed()

    files = sorted(folder.glob("*.eml"))
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert subjects == ["First", "Second"]
    assert list(folder.glob("*.part")) == []
