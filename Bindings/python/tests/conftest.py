import os
import pathlib

import pytest

import orderbase


@pytest.fixture
def engine(tmp_path):
    with orderbase.Engine(tmp_path / "root", durability="relaxed") as e:
        yield e


@pytest.fixture
def tenant(engine):
    engine.tenants.create("shop", settings={"default_currency": "GBP", "order_number_prefix": "SO-"})
    with engine.tenant("shop") as t:
        yield t


LINE = {"sku": "85123A", "title": "White hanging heart t-light holder", "quantity": 6, "unit_price": 255}
