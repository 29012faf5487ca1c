"""An engine and a tenant are shared by a thread pool (calls release the GIL)."""
from concurrent.futures import ThreadPoolExecutor

import orderbase
from conftest import LINE


def test_thread_pool_creates_and_updates_without_losing_writes(tmp_path):
    with orderbase.Engine(tmp_path / "r") as engine:   # sync durability: real fsyncs, shared by group commit
        engine.tenants.create("t")
        with engine.tenant("t") as t:
            with ThreadPoolExecutor(max_workers=8) as pool:
                ids = list(pool.map(lambda _: t.orders.create(line_items=[LINE])["id"], range(200)))
            assert len(set(ids)) == 200
            assert len(list(t.orders.list(limit=250))) == 200

            counter = t.orders.create(line_items=[LINE], metadata={"n": 0})["id"]

            def bump(_):
                while True:
                    o = t.orders.get(counter)
                    try:
                        t.orders.update(counter, metadata={"n": o["metadata"]["n"] + 1}, expected_version=o["version"])
                        return
                    except orderbase.VersionConflict:
                        continue

            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(bump, range(80)))
            assert t.orders.get(counter)["metadata"]["n"] == 80
            assert t.integrity.check()["ok"] is True
