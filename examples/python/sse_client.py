#!/usr/bin/env python3
"""
The seed's own way: start a run with POST /api/v1/events/extract/{userId}/llm-stream and read its
Server-Sent Events as they arrive, with the standard library only (http.client). Then re-attach with
Last-Event-ID and check that the frames and the text agree with GET /api/v1/runs/{id}.

    BASE_URL=http://127.0.0.1:8000 /usr/bin/python3 examples/python/sse_client.py
"""

import http.client
import json
import urllib.parse

from common import BASE_URL, USER_ID, Failed, auth_headers, check, get_json, run_main


def connection() -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(BASE_URL)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.netloc, timeout=30)


def read_events(response: http.client.HTTPResponse):
    """Yields (id, data) per SSE event. Whole lines are decoded, so a Chinese character split across
    network reads is never cut; `: ping` comments are skipped."""
    event_id, data = None, []
    while True:
        raw = response.readline()
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield event_id, "\n".join(data)
            event_id, data = None, []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "id":
                event_id = value
            elif field == "data":
                data.append(value)


def stream(method: str, path: str, headers: dict) -> list:
    """Frames of one SSE response, until the server ends it (after the run's last frame)."""
    conn = connection()
    conn.request(method, f"/api/v1{path}", headers={"Accept": "text/event-stream", **auth_headers(), **headers})
    response = conn.getresponse()
    if response.status != 200:
        raise Failed(f"{method} {path}: HTTP {response.status} {response.read().decode('utf-8')}")
    check(response.getheader("Content-Type", "").startswith("text/event-stream"), f"{method} {path} is an event stream")
    frames = []
    for event_id, data in read_events(response):
        frame = json.loads(data)
        if event_id != str(frame["seq"]):
            raise Failed(f"SSE id {event_id} is not the frame's seq {frame['seq']}")
        frames.append(frame)
        if frame["type"] == "llm_chunk":
            print(frame["content"], end="", flush=True)
    print()
    conn.close()
    return frames


def text_of(frames: list) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "llm_chunk")


def main() -> None:
    frames = stream("POST", f"/events/extract/{urllib.parse.quote(USER_ID)}/llm-stream", {})
    check(len(frames) > 2 and frames[0]["type"] == "start", "the stream begins with a start frame")
    run_id = frames[0]["runId"]
    check([f["seq"] for f in frames] == list(range(1, len(frames) + 1)), "seqs run 1, 2, 3… without a gap")
    check(frames[-1]["type"] == "done", f"the run ended done (got {frames[-1]['type']})")

    # Re-attach from the middle, as EventSource does after a dropped connection.
    half = len(frames) // 2
    rest = stream("GET", f"/runs/{run_id}/stream", {"Last-Event-ID": str(half)})
    check(rest == frames[half:], f"Last-Event-ID: {half} replays exactly the frames after it")

    stored = get_json(f"/runs/{run_id}")
    check(stored["status"] == "done", "the stored run is done")
    check(stored["lastSeq"] == frames[-1]["seq"], "the stored log ends at the last frame received")
    check(stored["text"] == text_of(frames), "the streamed text equals the stored text")
    check(len(stored["events"]) == frames[-1]["events"], f"{len(stored['events'])} events, as the done frame says")
    print(f"run {run_id}: {len(frames)} frames, {len(stored['events'])} events")


if __name__ == "__main__":
    run_main(main)
