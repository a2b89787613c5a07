#!/usr/bin/python3
"""Writes the NumPy fixtures of tests/framework/io/test_npy.cpp and test_npz.cpp.

Run from anywhere with Debian's python3-numpy (`/usr/bin/python3 make_fixtures.py`); the files
land next to this script and are committed, so the tests need no Python. Every array is small and
its values are spelled out again in the tests, which check them element by element.

  <dtype>.npy          one array per dtype, shape (2, 3), C order, little endian (1-byte dtypes:
                       '|'), holding that dtype's extremes (see values() below)
  be_<dtype>.npy       the same arrays stored big endian ('>')
  fortran_f8.npy       float64, shape (2, 3, 4), fortran_order True: arange(24) / 4
  fortran_i2_be.npy    int16, shape (3, 2), Fortran order and big endian: arange(6) - 3
  scalar_f4.npy        a 0-d float32 array: 3.5
  empty_f4.npy         float32 of shape (0, 3)
  v2_i4.npy, v3_u1.npy format versions 2.0 and 3.0 (values as i4.npy, u1.npy)
  complex64.npy, unicode_u3.npy, float16.npy, structured.npy   dtypes tapeflow does not read
  stored.npz           np.savez: a (f4 (2, 2)), b (i8 (3,)), mask (bool (4,)), scalar (f8 ())
  compressed.npz       np.savez_compressed of the same members
  bad_crc.npz          stored.npz with one byte of member a's data changed (its CRC no longer
                       matches)
  not_npy_member.npz   a zip whose member x.npy holds text, not an npy file
"""
import io
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def values(dtype):
    """The (2, 3) test array of `dtype`: its extremes and a few ordinary values."""
    dt = np.dtype(dtype)
    if dt.kind == 'b':
        v = [True, False, True, False, False, True]
    elif dt.kind == 'i':
        info = np.iinfo(dt)
        v = [info.min, -1, 0, 1, info.max, 7]
    elif dt.kind == 'u':
        info = np.iinfo(dt)
        v = [0, 1, 2, info.max - 1, info.max, 7]
    elif dt.itemsize == 4:  # float32, either byte order
        v = [-1.5, 0.0, 0.25, 3.0e38, np.inf, np.nan]
    else:
        v = [0.1, -2.5, 3.0, 1e-3, 1e10, -0.0]
    return np.array(v, dtype=dt).reshape(2, 3)


def path(name):
    return os.path.join(HERE, name)


DTYPES = ['b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f4', 'f8']


def npz_members():
    return {
        'a': np.array([[1.0, 2.0], [3.0, 4.5]], dtype=np.float32),
        'b': np.array([-1, 0, 2**40], dtype=np.int64),
        'mask': np.array([True, False, False, True]),
        'scalar': np.array(-0.125, dtype=np.float64),
    }


def main():
    for code in DTYPES:
        np.save(path(code + '.npy'), values(code))
        if code not in ('b1', 'i1', 'u1'):
            np.save(path('be_' + code + '.npy'), values('>' + code))
    np.save(path('fortran_f8.npy'), np.asfortranarray(np.arange(24.0).reshape(2, 3, 4) / 4))
    np.save(path('fortran_i2_be.npy'),
            np.asfortranarray((np.arange(6) - 3).astype('>i2').reshape(3, 2)))
    np.save(path('scalar_f4.npy'), np.array(3.5, dtype=np.float32))
    np.save(path('empty_f4.npy'), np.zeros((0, 3), dtype=np.float32))
    for version, code in (((2, 0), 'i4'), ((3, 0), 'u1')):
        with open(path('v%d_%s.npy' % (version[0], code)), 'wb') as f:
            np.lib.format.write_array(f, values(code), version=version)
    np.save(path('complex64.npy'), np.array([1 + 2j], dtype=np.complex64))
    np.save(path('unicode_u3.npy'), np.array(['abc', 'de']))
    np.save(path('float16.npy'), np.array([1.5], dtype=np.float16))
    np.save(path('structured.npy'), np.zeros(2, dtype=[('x', '<f4'), ('y', '<i4')]))

    np.savez(path('stored.npz'), **npz_members())
    np.savez_compressed(path('compressed.npz'), **npz_members())

    # Member a's data is the last 16 bytes before member b's local header (stored, so verbatim):
    # change its first float, 1.0, to 1.5 without touching the recorded CRC.
    data = bytearray(open(path('stored.npz'), 'rb').read())
    one = np.float32(1.0).tobytes()
    at = data.find(one + np.float32(2.0).tobytes())
    assert at > 0 and data.find(one + np.float32(2.0).tobytes(), at + 1) < 0
    data[at:at + 4] = np.float32(1.5).tobytes()
    open(path('bad_crc.npz'), 'wb').write(bytes(data))

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('x.npy', 'this is not an npy file\n')
    open(path('not_npy_member.npz'), 'wb').write(buf.getvalue())


if __name__ == '__main__':
    main()
