#!/usr/bin/env python3
"""
A WebSocket client of /api/v1/ws (Debian's python3-websockets): start a run, cancel it while the model
is writing, resume it, close the socket mid-run, subscribe again from the last seq on a new socket,
and check the text against GET /api/v1/runs/{id}.

    BASE_URL=http://127.0.0.1:8000 /usr/bin/python3 examples/python/ws_client.py
"""

import asyncio
import itertools
import json

import websockets

from common import USER_ID, Failed, auth_headers, check, get_json, run_main, ws_url

PROTOCOL = 2
TERMINAL = {"done", "cancelled", "error"}
TIMEOUT_S = 20
_ids = itertools.count(1)


class Socket:
    """One connection: requests answered by requestId, run frames kept per run."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = []

    @classmethod
    async def open(cls) -> "Socket":
        ws = await websockets.connect(ws_url("/ws"), extra_headers=auth_headers(), open_timeout=TIMEOUT_S)
        sock = cls(ws)
        hello = await sock.receive()
        check(hello["type"] == "hello" and hello["protocol"] == PROTOCOL, f"hello speaks protocol {PROTOCOL}")
        return sock

    async def receive(self) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT_S))

    async def request(self, message: dict) -> dict:
        """Sends a request and returns its answer (an ack); frames that arrive meanwhile are kept."""
        request_id = f"py-{next(_ids)}"
        await self.ws.send(json.dumps({**message, "requestId": request_id}))
        while True:
            m = await self.receive()
            if m.get("requestId") == request_id:
                if m["type"] == "request_error":
                    raise Failed(f"{message['type']} refused: {m['code']}: {m['message']}")
                return m
            self.keep(m)

    def keep(self, m: dict) -> None:
        if "seq" in m:
            self.frames.append(m)
        elif m["type"] == "request_error":
            raise Failed(f"request error {m['code']}: {m['message']}")

    async def until(self, done) -> dict:
        """Receives until a frame satisfies `done`; returns that frame."""
        while True:
            m = await self.receive()
            self.keep(m)
            if "seq" in m and done(m):
                return m

    async def close(self) -> None:
        await self.ws.close()


def chunks(frames: list) -> int:
    return sum(1 for f in frames if f["type"] == "llm_chunk")


async def scenario() -> None:
    a = await Socket.open()
    ack = await a.request({"type": "start", "userId": USER_ID})
    run_id = ack["runId"]
    print(f"started {run_id}")

    await a.until(lambda f: f["type"] == "llm_chunk" and chunks(a.frames) >= 5)
    await a.request({"type": "cancel", "runId": run_id})
    cancelled = await a.until(lambda f: f["type"] in TERMINAL)
    check(cancelled["type"] == "cancelled", f"cancel mid-generation ends the run cancelled (got {cancelled['type']})")
    check(get_json(f"/runs/{run_id}")["status"] == "cancelled", "the server says cancelled too")

    await a.request({"type": "resume", "runId": run_id})
    before = chunks(a.frames)
    await a.until(lambda f: f["type"] == "llm_chunk" and chunks(a.frames) >= before + 3)
    last_seq = a.frames[-1]["seq"]
    await a.close()  # gone mid-run, like a dropped connection
    print(f"closed the socket at seq {last_seq}; the run goes on")

    b = await Socket.open()
    sub = await b.request({"type": "subscribe", "runId": run_id, "after": last_seq})
    check(sub["op"] == "subscribe" and sub["lastSeq"] >= last_seq, "re-subscribed from the last seq")
    # Only frames after last_seq come now: the first terminal one ends the resumed run.
    end = next((f for f in b.frames if f["type"] in TERMINAL), None) or await b.until(lambda f: f["type"] in TERMINAL)
    await b.close()

    frames = a.frames + b.frames
    check([f["seq"] for f in frames] == list(range(1, len(frames) + 1)), "every frame once, in order, no gap")
    check(end["type"] == "done", f"the resumed run finished (got {end['type']})")
    stored = get_json(f"/runs/{run_id}")
    text = "".join(f["content"] for f in frames if f["type"] == "llm_chunk")
    check(stored["status"] == "done" and stored["lastSeq"] == end["seq"], "stored: done, at the last seq received")
    check(stored["text"] == text, f"the text received ({len(text)} characters) equals the stored text")
    print(f"run {run_id}: {len(frames)} frames, {len(stored['events'])} events")


if __name__ == "__main__":
    run_main(lambda: asyncio.run(scenario()))
