"""CDS Hooks order-sign with prefetch: our own time per call, p50/p95, calls per second and the
app's CPU per call (issue #15: p95 <= 20 ms of our own time on a 2-core machine).

    .venv/bin/python -m bench.cds                       # 500 calls one at a time, then 8 at once
    .venv/bin/python -m bench.cds --requests 2000 --concurrency 16

The real app (`valueloop serve`, demo mode, SQLite in a temporary folder, outbox worker off)
on a free loopback port, with a CDS client registered from a JWKS file. Every call is signed
with a fresh JWT (ES384, a new jti) the way an EHR sends it, and carries a full prefetch: the
patient, the encounter, 8 conditions and the four history searches (about 80 resources), so no
FHIR server is read and the time measured is ours alone. Each call signs four draft orders; on
every other call one of them is low-value (a card comes back). First, as the floor, the same
signed call with nothing to judge (an empty answer). Synthetic data only; all traffic stays on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from bench.flags import clean_env, server_url, throwaway_database
from bench.server import BenchError, free_port, serving, valueloop, write_report

REPO = Path(__file__).resolve().parents[1]
ISSUER = "https://ehr.bench.test"
SERVICE = "valueloop-order-sign"
ON = date(2026, 5, 1)
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROUNDS = 10  # alternating floor / order-sign blocks


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _bundle(resource_type: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": f"{resource_type}?patient=p1"}],
        "entry": [{"resource": resource} for resource in resources],
    }


def prefetch() -> dict[str, Any]:
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    cpt = "http://www.ama-assn.org/go/cpt"
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"c{n}",
            "subject": {"reference": "Patient/p1"},
            "code": _coding(icd, code),
            "onsetDateTime": (ON - timedelta(days=3 + 40 * n)).isoformat(),
        }
        for n, code in enumerate(
            ["M54.50", "I10", "E11.9", "J45.909", "K21.9", "E78.5", "F41.1", "G47.00"]
        )
    ]

    def history(resource_type: str, count: int, code: str, field: str) -> list[dict[str, Any]]:
        found = []
        for n in range(count):
            resource: dict[str, Any] = {
                "resourceType": resource_type,
                "id": f"{resource_type.lower()}{n}",
                "subject": {"reference": "Patient/p1"},
                "status": "completed" if resource_type != "ServiceRequest" else "active",
            }
            day = (ON - timedelta(days=30 + 17 * n)).isoformat()
            if resource_type == "Encounter":
                resource["class"] = {"code": "AMB"}
                resource["period"] = {"start": day}
                resource["status"] = "finished"
            elif resource_type == "MedicationRequest":
                resource["intent"] = "order"
                resource["medicationCodeableConcept"] = _coding(
                    "http://www.nlm.nih.gov/research/umls/rxnorm", "197361"
                )
                resource["authoredOn"] = day
            else:
                resource["code"] = _coding(cpt, code)
                resource[field] = day
                if resource_type == "ServiceRequest":
                    resource["intent"] = "order"
            found.append(resource)
        return found

    return {
        "patient": {
            "resourceType": "Patient",
            "id": "p1",
            "gender": "female",
            "birthDate": "1968-03-14",
        },
        "encounter": {
            "resourceType": "Encounter",
            "id": "enc1",
            "status": "in-progress",
            "class": {"code": "AMB"},
            "period": {"start": ON.isoformat()},
            "subject": {"reference": "Patient/p1"},
        },
        "conditions": _bundle("Condition", conditions),
        "historyEncounters": _bundle("Encounter", history("Encounter", 20, "", "")),
        "historyProcedures": _bundle(
            "Procedure", history("Procedure", 10, "45378", "performedDateTime")
        ),
        "historyServiceRequests": _bundle(
            "ServiceRequest", history("ServiceRequest", 30, "80053", "authoredOn")
        ),
        "historyMedicationRequests": _bundle(
            "MedicationRequest", history("MedicationRequest", 15, "", "")
        ),
    }


def _order(number: int, index: int, code: str) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": f"draft{number}-{index}",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": _coding("http://www.ama-assn.org/go/cpt", code),
        "authoredOn": ON.isoformat(),
    }


def _medication(number: int) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"draft{number}-med",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        # lisinopril (ATC C09AA03): a medication order no rule is about.
        "medicationCodeableConcept": _coding("http://www.whocc.no/atc", "C09AA03"),
        "authoredOn": ON.isoformat(),
    }


def _call(number: int, orders: list[dict[str, Any]], prefetch: dict[str, Any]) -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/prac-1",
            "patientId": "p1",
            "encounterId": "enc1",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": order} for order in orders],
            },
        },
        "prefetch": prefetch,
    }


def hook_body(number: int, shared_prefetch: dict[str, Any]) -> dict[str, Any]:
    """Four draft orders, as a visit's order set is signed: on even calls a lumbar MRI in week
    one of back pain (a card), on odd ones an office visit; a blood count and a medication
    no rule is about; and a HbA1c."""
    first = "72148" if number % 2 == 0 else "99213"
    orders = [
        _order(number, 0, first),
        _order(number, 1, "85025"),
        _order(number, 2, "83036"),
        _medication(number),
    ]
    return _call(number, orders, shared_prefetch)


def floor_body(number: int, patient: dict[str, Any]) -> dict[str, Any]:
    """The floor: the same signed call with the least to judge (the patient alone, one diet
    order no rule reads), answered with no cards. What is left is the JWT check, the replay
    record, HTTP and JSON: the cost of any CDS response from this server."""
    diet = {
        "resourceType": "NutritionOrder",
        "id": f"diet{number}",
        "status": "draft",
        "intent": "order",
        "patient": {"reference": "Patient/p1"},
        "dateTime": ON.isoformat(),
    }
    return _call(number, [diet], {"patient": patient})


class Signer:
    def __init__(self, key: ECKey, audience: str) -> None:
        self._key = key
        self._audience = audience

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "bench-ehr",
            "aud": self._audience,
            "iat": now,
            "exp": now + 240,
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": "ES384", "typ": "JWT", "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=["ES384"])


def own_times(log: Path, path: str) -> list[float]:
    """The ``duration_ms`` of each access log line for ``path``, in the order they were logged."""
    found = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "request" and entry.get("path") == path:
            found.append(float(entry["duration_ms"]))
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


async def run_calls(
    url: str, signer: Signer, bodies: list[bytes], concurrency: int
) -> tuple[list[float], float, int]:
    """Send every body (``concurrency`` at a time); latencies in ms, wall seconds, cards seen."""
    latencies: list[float] = []
    cards = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal cards
        while not queue.empty():
            body = queue.get_nowait()
            headers = {
                "Authorization": f"Bearer {signer.token()}",
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            response = await http.post(url, content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise BenchError(f"HTTP {response.status_code}: {response.text[:500]}")
            cards += len(response.json()["cards"])

    started = time.perf_counter()
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, cards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--app-dir", type=Path, default=REPO)
    parser.add_argument(
        "--server",
        help="a PostgreSQL server (postgresql://postgres@127.0.0.1:5432): the app's database is "
        "a throwaway one there instead of SQLite",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        database = (
            stack.enter_context(throwaway_database(server_url(args.server), keep=False))
            if args.server
            else None
        )
        run(args, database)


def run(args: argparse.Namespace, database: str | None) -> None:
    started_at = datetime.now(UTC)
    key = ECKey.generate_key("P-384", parameters={"kid": "bench-1", "use": "sig"}, private=True)
    with tempfile.TemporaryDirectory(prefix="valueloop-bench-cds-") as folder:
        work = Path(folder)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **clean_env(),
            "VALUELOOP_MODE": "demo",
            "VALUELOOP_DATABASE_URL": database or f"sqlite:///{work / 'bench.db'}",
            "VALUELOOP_DATA_DIR": str(work / "data"),
            "VALUELOOP_BASE_URL": base,
            # INFO for the access log: each request's own duration in the app, from its first
            # middleware to its last byte (app/middleware.py), without the client's share.
            "VALUELOOP_LOG_LEVEL": "INFO",
            "VALUELOOP_WORKER": "off",
        }
        jwks = work / "jwks.json"
        jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
        valueloop(["migrate"], env, args.app_dir)
        valueloop(
            ["cds-clients", "add", ISSUER, "--jwks-file", str(jwks), "--name", "Bench EHR"],
            env,
            args.app_dir,
        )
        shared = prefetch()
        total = args.requests + args.warmup
        bodies = [json.dumps(hook_body(n, shared)).encode() for n in range(total)]
        floors = [json.dumps(floor_body(n, shared["patient"])).encode() for n in range(total)]
        url = f"{base}/cds-services/{SERVICE}"
        signer = Signer(key, url)
        with serving(port=port, env=env, app_dir=args.app_dir, log_path=work / "app.log") as app:
            asyncio.run(run_calls(url, signer, bodies[: args.warmup], 1))
            asyncio.run(run_calls(url, signer, floors[: args.warmup], 1))
            # Floor and order-sign in alternating blocks, so a machine that speeds up or slows
            # down mid-run (a shared VM does) weighs on both alike and their ratio holds.
            floor: list[float] = []
            one: list[float] = []
            floor_wall = one_wall = cpu_floor = cpu_one = 0.0
            floor_cards = one_cards = 0
            measured_floors, measured = floors[args.warmup :], bodies[args.warmup :]
            block = max(1, len(measured) // ROUNDS)
            for start in range(0, len(measured), block):
                cpu_before = cpu_seconds(app.pid)
                samples, wall, cards = asyncio.run(
                    run_calls(url, signer, measured_floors[start : start + block], 1)
                )
                cpu_floor += cpu_seconds(app.pid) - cpu_before
                floor += samples
                floor_wall += wall
                floor_cards += cards
                cpu_before = cpu_seconds(app.pid)
                samples, wall, cards = asyncio.run(
                    run_calls(url, signer, measured[start : start + block], 1)
                )
                cpu_one += cpu_seconds(app.pid) - cpu_before
                one += samples
                one_wall += wall
                one_cards += cards
            if floor_cards:
                raise BenchError("the floor call got cards: it must be an empty answer")
            cpu_before = cpu_seconds(app.pid)
            many, many_wall, _ = asyncio.run(
                run_calls(url, signer, bodies[args.warmup :], args.concurrency)
            )
            cpu_many = cpu_seconds(app.pid) - cpu_before
        own = own_times(work / "app.log", f"/cds-services/{SERVICE}")
    # The log holds the calls in the order they were sent: the warm-ups (order-sign, floor),
    # then the alternating blocks, then the concurrent run.
    own = own[2 * args.warmup :]
    own_floor: list[float] = []
    own_one: list[float] = []
    for start in range(0, len(measured), block):
        size = len(measured[start : start + block])
        own_floor += own[:size]
        own_one += own[size : 2 * size]
        own = own[2 * size :]
    size_kb = len(bodies[0]) / 1024

    def row(name: str, samples: list[float], wall: float, cpu: float) -> str:
        return (
            f"| {name} | {len(samples)} | {statistics.median(samples):.1f} | "
            f"{percentile(samples, 95):.1f} | {percentile(samples, 99):.1f} | "
            f"{len(samples) / wall:.0f} | {1000 * cpu / len(samples):.2f} |"
        )

    lines = [
        f"## CDS Hooks order-sign with prefetch, {started_at:%Y-%m-%d %H:%M} UTC",
        f"- app: `valueloop serve`, demo mode, {'PostgreSQL' if database else 'SQLite'}, one "
        f"process; request body {size_kb:.0f} KB "
        f"(4 draft orders; patient, encounter, 8 conditions, 75 history resources); "
        f"{one_cards} cards in {len(one)} calls",
        f"- machine: {os.cpu_count()} cores; client in this process (httpx), JWT signed per call",
        "",
        "| run | calls | p50 ms | p95 ms | p99 ms | calls/s | app CPU per call ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("floor: empty answer, one at a time", floor, floor_wall, cpu_floor),
        row("order-sign, one at a time", one, one_wall, cpu_one),
        row(f"order-sign, {args.concurrency} at once", many, many_wall, cpu_many),
        "",
        f"Judging the orders adds {statistics.median(one) - statistics.median(floor):.1f} ms "
        f"at p50 and {1000 * (cpu_one / len(one) - cpu_floor / len(floor)):.2f} ms of CPU per "
        "call to the floor (the JWT check, the replay record, the audit record, HTTP and JSON); "
        f"order-sign / floor: {statistics.median(one) / statistics.median(floor):.2f}x at p50, "
        f"{(cpu_one / len(one)) / (cpu_floor / len(floor)):.2f}x in CPU. The two ran in "
        f"{ROUNDS} alternating blocks.",
        "",
        "The app's own time per call, from its access log (first middleware to last byte; "
        "without HTTP parsing and the client's share):",
        "",
        "| run | calls | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        f"| floor, one at a time | {len(own_floor)} | {statistics.median(own_floor):.1f} | "
        f"{percentile(own_floor, 95):.1f} | {percentile(own_floor, 99):.1f} |",
        f"| order-sign, one at a time | {len(own_one)} | {statistics.median(own_one):.1f} | "
        f"{percentile(own_one, 95):.1f} | {percentile(own_one, 99):.1f} |",
        "",
        "Target (issue #15): p95 <= 20 ms of our own time per call with prefetch. One at a time, "
        "the latency above is our own time plus loopback HTTP and the client; no EHR is called.",
    ]
    write_report("cds", started_at, "\n".join(lines))


if __name__ == "__main__":
    main()
