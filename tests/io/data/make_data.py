#!/usr/bin/python3
"""Writes the NumPy reference files used by tests/io/npy_test.cc.

Run with Debian's interpreter (python3-numpy 1.24):  /usr/bin/python3 tests/io/data/make_data.py
Deterministic: the zip timestamps inside the .npz files are pinned (time.time and TZ).
"""
import os
import time

os.environ["TZ"] = "UTC"
time.tzset()
time.time = lambda: 315576000.0  # 1980-01-01 12:00 UTC, used by zipfile for member dates

import numpy as np  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


# One small array per supported dtype, values chosen so every byte matters.
base = np.array([[0, 1, -2], [3, -4, 5]])
np.save(path("f2.npy"), (base / 4).astype("<f2"))
np.save(path("f4.npy"), (base / 4).astype("<f4"))
np.save(path("f8.npy"), (base / 3).astype("<f8"))
np.save(path("i1.npy"), base.astype("i1"))
np.save(path("u1.npy"), (base + 200).astype("u1"))
np.save(path("i2.npy"), (base * 1000).astype("<i2"))
np.save(path("u2.npy"), (base + 60000).astype("<u2"))
np.save(path("i4.npy"), (base * 100000).astype("<i4"))
np.save(path("u4.npy"), (base + 4000000000).astype("<u4"))
np.save(path("i8.npy"), (base * 10**15).astype("<i8"))
np.save(path("u8.npy"), np.abs(base).astype("<u8") + np.uint64(2**63))
np.save(path("b1.npy"), base > 0)
np.save(path("scalar_f4.npy"), np.float32(2.5))
np.save(path("empty_f4.npy"), np.zeros((0, 3), dtype="<f4"))
np.save(path("rank5_i8.npy"), np.arange(32, dtype="<i8").reshape(2, 2, 2, 2, 2))
np.save(path("long_dim_u1.npy"), (np.arange(1000) % 251).astype("u1"))

# Other header versions and the arrays edgefit must refuse.
with open(path("v2_f4.npy"), "wb") as f:
    np.lib.format.write_array(f, (base / 4).astype("<f4"), version=(2, 0))
with open(path("v3_f4.npy"), "wb") as f:
    np.lib.format.write_array(f, (base / 4).astype("<f4"), version=(3, 0))
np.save(path("fortran_f4.npy"), np.asfortranarray((base / 4).astype("<f4")))
np.save(path("bigendian_f4.npy"), (base / 4).astype(">f4"))
np.save(path("object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)

# .npz: stored (np.savez) and deflate (np.savez_compressed).
x = np.linspace(-1, 1, 24, dtype="<f4").reshape(2, 3, 4)
ids = np.array([[1, 2, 3]], dtype="<i8")
np.savez(path("stored.npz"), x=x, ids=ids)
np.savez_compressed(path("deflate.npz"), x=x, ids=ids)
