"""Writes event-stream records: to $DATA_FD (`fd`), behind the smuggle prefix on stdout
(`smuggle`), or one record and then a torn line (`torn`)."""

import json
import os
import sys
import time

mode = sys.argv[1]
rank = int(os.environ.get("RANK", "0"))


def line(fields):
    return json.dumps({**fields, "$t": time.time(), "$pid": os.getpid(), "$rank": rank})


records = [
    {"$event": "schema", "$data": {"version": 1}},
    {"loss": 0.5, "step": 1},
    {"$event": "phase", "$data": {"name": "run_script"}},
    {"$wrap": {"name": "epoch", "step": "begin", "id": 0}},
]

if mode == "fd":
    fd = int(os.environ["DATA_FD"])
    with os.fdopen(fd, "w") as stream:
        for fields in [*records, {"fd": fd}]:
            stream.write(line(fields) + "\n")
elif mode == "smuggle":
    from overseer.schema import SMUGGLE_PREFIX

    print("plain text")
    print(SMUGGLE_PREFIX + line(records[0]))
    print("0: " + SMUGGLE_PREFIX + line(records[1]))
    print("0: " + SMUGGLE_PREFIX + "{not json")
elif mode == "torn":
    with os.fdopen(int(os.environ["DATA_FD"]), "w") as stream:
        stream.write(line(records[1]) + "\n")
        stream.write("not json at all\n")
        stream.write('{"loss": 0.')
