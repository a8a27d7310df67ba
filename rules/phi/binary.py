"""Files that are not text: images and DICOM objects, recognised by their header bytes."""

from __future__ import annotations

import re
import struct

from gitops_health.rules.phi.prefilter import path_words

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)  # fmt: skip
# Path words that say an image shows a patient (photos, scans, ID cards).
PATIENT_IMAGE_WORDS = frozenset(
    [
        "patient",
        "patients",
        "mrn",
        "xray",
        "radiograph",
        "radiology",
        "scan",
        "scans",
        "mri",
        "ct",
        "dicom",
        "face",
        "faces",
        "photo",
        "photos",
        "headshot",
        "idcard",
        "insurance",
        "wound",
        "derm",
        "dermatology",
        "ultrasound",
        "ecg",
        "ekg",
        "mammogram",
        "chart",
        "intake",
    ]
)
_DICOM_PATIENT_TAGS = {
    (0x0010, 0x0010): "PatientName", (0x0010, 0x0020): "PatientID",
    (0x0010, 0x0030): "PatientBirthDate", (0x0010, 0x1040): "PatientAddress",
}  # fmt: skip
_LONG_VRS = {b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"UC", b"UR", b"OV", b"SV",
             b"UV"}  # fmt: skip
_ANONYMOUS = re.compile(r"^(?:anon\w*|redacted|removed|unknown|none|n/a|x+|0+|\^+|test\w*)$", re.I)


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def image_kind(data: bytes) -> str | None:
    if data[128:132] == b"DICM":
        return "DICOM"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((kind for magic, kind in _IMAGE_MAGIC if data.startswith(magic)), None)


def dicom_patient_tags(data: bytes) -> list[str]:
    """Names of non-empty, non-anonymised patient tags (explicit VR little endian walk)."""
    found: list[str] = []
    position = 132
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        if group > 0x0010 and group != 0xFFFE:
            break
        vr = data[position + 4 : position + 6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from("<I", data, position + 8)
            start = position + 12
        elif vr.isalpha() and vr.isupper():
            (length,) = struct.unpack_from("<H", data, position + 6)
            start = position + 8
        else:  # implicit VR: 4-byte length, no VR
            vr = b""
            (length,) = struct.unpack_from("<I", data, position + 4)
            start = position + 8
        if length == 0xFFFFFFFF:
            break
        name = _DICOM_PATIENT_TAGS.get((group, element))
        value = data[start : start + length].decode("latin-1").strip(" \x00")
        if name and value and not _ANONYMOUS.match(value):
            found.append(name)
        position = start + length
    return found


def patient_path(path: str) -> bool:
    """Does the path say the file shows a patient (photos, scans, ID cards)?"""
    return not PATIENT_IMAGE_WORDS.isdisjoint(path_words(path))


def image_reason(path: str, data: bytes) -> str | None:
    """Why this binary file is a MEDICAL_IMAGE finding, or None."""
    kind = image_kind(data)
    if kind == "DICOM":
        tags = dicom_patient_tags(data)
        return f"DICOM object with patient tags: {', '.join(tags)}" if tags else None
    if kind and patient_path(path):
        return f"{kind} image committed under a patient-related name"
    return None
