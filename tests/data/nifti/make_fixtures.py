#!/usr/bin/python3
"""Writes the NIfTI fixtures of tests/framework/io/test_nifti.cpp with nibabel, and what nibabel
reads back from each into expected.json, so that the test compares tapeflow's reader with the
reference implementation without needing Python itself.

Run from anywhere (Debian: python3-nibabel, python3-numpy; /usr/bin/python3, not a pyenv):

    /usr/bin/python3 tests/data/nifti/make_fixtures.py

For every file, expected.json holds what nibabel reports: the NIfTI version, the datatype code,
the shape, `img.affine`, `header.get_zooms()`, the qform and sform codes, the scaling nibabel
applies (`img.dataobj.slope`, `.inter`) and every voxel of `img.get_fdata()` cast to float32, in
C order of that array (index [i, j, k] = voxel i along x, j along y, k along z).
"""
import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def rotation(axis, degrees):
    """A 3x3 rotation about axis 0, 1 or 2."""
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    i, j = [a for a in range(3) if a != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine(rot, zooms, offset):
    a = np.eye(4)
    a[:3, :3] = rot @ np.diag(zooms)
    a[:3, 3] = offset
    return a


def save(img, name):
    nib.save(img, os.path.join(HERE, name))


def number(v):
    """A float for JSON; NaN and the infinities (which JSON lacks) as "nan", "inf", "-inf"."""
    v = float(v)
    return v if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf"))


def describe(name):
    img = nib.load(os.path.join(HERE, name))
    hdr = img.header
    slope, inter = img.dataobj.slope, img.dataobj.inter
    return {
        "file": name,
        "version": 2 if isinstance(hdr, nib.Nifti2Header) else 1,
        "datatype": int(hdr["datatype"]),
        "shape": [int(n) for n in img.shape],
        "affine": [[float(v) for v in row] for row in img.affine],
        "zooms": [float(z) for z in hdr.get_zooms()],
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "slope": number(slope),
        "inter": number(inter),
        "data": [number(v) for v in img.get_fdata().astype(np.float32).ravel(order="C")],
    }


def main():
    rng = np.random.default_rng(16)
    names = []

    # One small file per integer and float datatype, values near each type's ends, default
    # nibabel header (sform code 2 with the affine, qform code 0).
    shape = (2, 3, 2)
    aff = affine(rotation(2, 30), (1.5, 2.0, 2.5), (-10.0, 20.5, 3.0))
    for dtype, lo, hi in [
        (np.int8, -128, 127),
        (np.uint16, 0, 65535),
        (np.int32, -(2**31), 2**31 - 1),
        (np.uint32, 0, 2**32 - 1),
        (np.int64, -(2**62), 2**62),
        (np.uint64, 0, 2**64 - 1),
    ]:
        n = int(np.prod(shape))
        arr = np.array([lo + (hi - lo) * i // (n - 1) for i in range(n)], dtype=dtype)
        arr = arr.reshape(shape)
        name = f"{np.dtype(dtype).name}.nii.gz"
        # int64 big-endian: the 8-byte swap
        endian = ">" if dtype == np.int64 else "<"
        arr = arr.astype(np.dtype(dtype).newbyteorder(endian))
        hdr = nib.Nifti1Header(endianness=endian)
        hdr.set_data_dtype(arr.dtype)
        save(nib.Nifti1Image(arr, aff, header=hdr), name)
        names.append(name)
    arr = rng.uniform(-3, 3, shape).astype(np.float32)
    arr[0, 0, 0], arr[1, 2, 1] = np.float32(np.nan), np.float32(-np.inf)
    save(nib.Nifti1Image(arr, aff), "float32.nii.gz")
    names.append("float32.nii.gz")

    # uint8, uncompressed, a general affine (rotation about two axes, a shear) in the sform.
    shear = np.array([[1.0, 0.2, 0.0], [0.0, 1.0, 0.1], [0.0, 0.0, 1.0]])
    aff_sform = np.eye(4)
    aff_sform[:3, :3] = rotation(0, 20) @ rotation(1, -35) @ shear @ np.diag([0.8, 1.2, 3.0])
    aff_sform[:3, 3] = [90.0, -126.0, -72.0]
    arr = np.arange(3 * 4 * 2, dtype=np.uint8).reshape(3, 4, 2) * 10
    save(nib.Nifti1Image(arr, aff_sform), "uint8_sform.nii")
    names.append("uint8_sform.nii")

    # int16 with scl_slope / scl_inter: nibabel scales float data into the int16 range.
    arr = np.linspace(-100.0, 300.0, 4 * 3 * 2).reshape(4, 3, 2)
    img = nib.Nifti1Image(arr, np.diag([2.0, 2.0, 2.0, 1.0]))
    img.set_data_dtype(np.int16)
    save(img, "int16_scaled.nii.gz")
    names.append("int16_scaled.nii.gz")

    # The same, big-endian (the header's byte order, and the data's).
    img = nib.Nifti1Image(arr, np.diag([2.0, 2.0, 2.0, 1.0]),
                          header=nib.Nifti1Header(endianness=">"))
    img.set_data_dtype(np.dtype(">i2"))
    save(img, "int16_scaled_be.nii")
    names.append("int16_scaled_be.nii")

    # qform only (code 1), left-handed (qfac -1), sform code 0.
    aff_q = affine(rotation(2, -40) @ rotation(0, 15), (0.9, 1.1, 2.2), (5.0, -7.0, 11.0))
    aff_q[:3, 2] *= -1
    img = nib.Nifti1Image(np.arange(2 * 2 * 3, dtype=np.int16).reshape(2, 2, 3) - 5, None)
    img.set_qform(aff_q, code=1)
    img.set_sform(None, code=0)
    save(img, "qform_only.nii")
    names.append("qform_only.nii")

    # Neither transform: nibabel's fallback from the shape and zooms (x flipped, centered).
    img = nib.Nifti1Image(np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2), None)
    img.header.set_zooms((1.5, 2.0, 2.5))
    img.set_qform(None, code=0)
    img.set_sform(None, code=0)
    save(img, "no_xform.nii")
    names.append("no_xform.nii")

    # NIfTI-2, float64, 4-D, gzipped; sform (code 4) and a different qform (code 1): the sform
    # wins.
    arr = rng.normal(size=(2, 3, 2, 2))
    img = nib.Nifti2Image(arr, aff)
    img.set_qform(affine(np.eye(3), (1.5, 2.0, 2.5), (1.0, 2.0, 3.0)), code=1)
    img.set_sform(aff, code=4)
    img.header.set_zooms((1.5, 2.0, 2.5, 0.7))
    save(img, "nifti2_float64_4d.nii.gz")
    names.append("nifti2_float64_4d.nii.gz")

    # NIfTI-2, uncompressed, big-endian int32, qform only.
    arr = (np.arange(2 * 3 * 2, dtype=np.int32).reshape(2, 3, 2) - 6) * 100000
    img = nib.Nifti2Image(arr.astype(">i4"), None, header=nib.Nifti2Header(endianness=">"))
    img.set_data_dtype(">i4")
    img.set_qform(aff_q, code=2)
    img.set_sform(None, code=0)
    save(img, "nifti2_qform_be.nii")
    names.append("nifti2_qform_be.nii")

    # A two-file NIfTI-1 pair (.hdr + .img, magic "ni1").
    img = nib.Nifti1Pair(np.arange(2 * 2 * 2, dtype=np.float32).reshape(2, 2, 2) / 4, aff)
    save(img, "pair.hdr")
    names.append("pair.hdr")

    # One fixture a line: small, and a diff shows which file changed.
    lines = [json.dumps(describe(n)) for n in names]
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        f.write('{"nibabel": "%s", "fixtures": [\n%s\n]}\n' % (nib.__version__, ",\n".join(lines)))


if __name__ == "__main__":
    main()
