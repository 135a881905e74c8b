"""moto's server with DynamoDB requests serialized, for the local runtime (local/emulator.ts runs it).

Usage: python3 launcher.py HOST PORT

moto serves each request on its own thread and does not lock DynamoDB: two transactions can interleave and
break the all-or-nothing, conditional semantics DynamoDB guarantees (seen: a reservation that oversold). This
launcher runs the same moto server with DynamoDB requests serialized behind one lock, while SQS long polls and
everything else stay concurrent.

It also applies three speed-ups, each of which is skipped, with a line "moto runs without <name>: <error>" on
stderr, should moto's internals change:

- cheap_transaction_rollback: makes TransactWriteItems cost what the transaction writes. moto backs up every
  table a transaction names with copy.deepcopy (all items and the whole stream history) so it can restore it on
  cancellation, which made one transaction take 30 ms on a table of 200 items and 450 ms at 2,000 (the local
  runtime's orders table holds four items per order). The launcher backs up only the items the transaction
  names and the stream's length, and restores those when moto cancels the transaction (same outcome: nothing
  written, nothing streamed).
- parsed_paths_once: parses each JSONPath of EventBridge's target input once. moto builds a new JSONPath parser
  (its LALR tables included, about 30 ms) for each of the 8 paths of every target of every event put, so one
  PutEvents took 110 ms of CPU, which slowed down every other request.
- survivors_of_full_collections_frozen: exempts what survives a full garbage collection from the next ones
  (gc.freeze()). moto keeps every item, message and stream record as Python objects, and each full collection
  walked all of them holding the interpreter lock, a pause that stopped every request and grew with the data
  (150 ms at 400,000 objects, 0.4-0.8 s stalls in a benchmark run). Frozen objects are still freed by reference
  counting when moto drops them; only a reference cycle among them would stay.

With MOTO_LAUNCHER_WARM_UP=1 in its environment (the local runtime's emulator), it also imports the backends
of the services the runtime calls, in a background thread started on the first request (the readiness check,
so that start-up is not slowed), while the apps synthesize: moto imports a backend on its first request, and
SSM's alone took 0.6-1.9 s (it loads the catalogue of AWS public parameters), which the first provisioning
waited for. A backend that cannot be imported there is left for the first request to import (and report) as it
would have.
"""

import copy
import os
import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def cheap_transaction_rollback():
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TableCopyIsIdentity:
        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved, streams = [], {}
        for entry in transact_items if isinstance(transact_items, list) else []:
            for op_type, op in entry.items() if isinstance(entry, dict) else []:
                table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                try:
                    attrs = op["Item"] if op_type == "Put" else op["Key"]
                    h = DynamoType(attrs[table.hash_key_attr])
                    r = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                except Exception:
                    continue
                had = h in table.items
                old = (table.items[h] if r is None else table.items[h].get(r)) if had else None
                saved.append((table, h, r, had, copy.deepcopy(old)))
                shard = table.stream_shard
                if shard is not None and id(table) not in streams:
                    streams[id(table)] = (shard, shard.items, len(shard.items))
        try:
            return original(self, transact_items)
        except BaseException:
            for table, h, r, had, old in reversed(saved):
                if r is None:
                    if old is None:
                        table.items.pop(h, None)
                    else:
                        table.items[h] = old
                elif old is not None:
                    table.items[h][r] = old
                else:
                    inner = table.items.get(h)
                    if inner is not None:
                        inner.pop(r, None)
                        if not had and not inner:
                            table.items.pop(h, None)
            for shard, items, length in streams.values():
                if shard.items is items:
                    del items[length:]
            raise

    models.copy = TableCopyIsIdentity()
    models.DynamoDBBackend.transact_write_items = transact_write_items


def parsed_paths_once():
    import functools

    import jsonpath_ng.ext

    parse = jsonpath_ng.ext.parse
    cached = functools.lru_cache(maxsize=1024)(parse)

    def parse_once(path, *args, **kwargs):
        return cached(path) if isinstance(path, str) and not args and not kwargs else parse(path, *args, **kwargs)

    jsonpath_ng.ext.parse = parse_once


def survivors_of_full_collections_frozen():
    import gc

    def freeze(phase, info):
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    gc.callbacks.append(freeze)


#: Backends the local runtime's provisioning, pollers and pipes call, slowest to import first.
WARM_BACKENDS = ("ssm", "cognitoidp", "events", "dynamodb", "dynamodbstreams", "sqs", "sts")


def backends_imported_ahead():
    from moto.backends import get_backend

    for name in WARM_BACKENDS:
        try:
            get_backend(name)
        except Exception:
            pass


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    for speed_up in (cheap_transaction_rollback, parsed_paths_once, survivors_of_full_collections_frozen):
        try:
            speed_up()
        except Exception as error:
            print("moto runs without " + speed_up.__name__ + ": " + repr(error), file=sys.stderr)
    lock = threading.Lock()
    warm_up = [os.environ.get("MOTO_LAUNCHER_WARM_UP") == "1"]

    def serialized(environ, start_response):
        if warm_up[0]:
            warm_up[0] = False
            threading.Thread(target=backends_imported_ahead, name="warm-up", daemon=True).start()
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(host, port, serialized, threaded=True)


if __name__ == "__main__":
    main()
