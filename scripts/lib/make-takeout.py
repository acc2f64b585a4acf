#!/usr/bin/env python3
"""Writes a synthetic Google Takeout export for benchmarks: N photos (unique JPEG bytes) with JSON sidecars in Google's
name forms, year folders, albums (a share of the photos, some in two), split round-robin across .zip and .tgz parts.

usage: make-takeout.py OUTDIR --items 5000 --parts zip,tgz,zip --size 100000 [--seed 1]
"""
import argparse, io, json, os, random, tarfile, time, zipfile

JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
JPEG_TAIL = bytes.fromhex("ffd9")


def jpeg(rng, size):
    body = rng.randbytes(max(0, size - len(JPEG_HEAD) - len(JPEG_TAIL) - 4))
    # A COM segment carries the random bytes (length-limited segments, so split).
    out = bytearray(JPEG_HEAD)
    for i in range(0, len(body), 65000):
        chunk = body[i:i + 65000]
        out += b"\xff\xfe" + (len(chunk) + 2).to_bytes(2, "big") + chunk
    return bytes(out + JPEG_TAIL)


def sidecar_name(media, rng):
    form = rng.random()
    if form < 0.5:
        name = media + ".supplemental-metadata"
    elif form < 0.8:
        name = media
    else:
        name = (media + ".supplemental-metadata")[:46]
    return name[:46] + ".json"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--parts", default="zip,tgz,zip")
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--albums", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    formats = a.parts.split(",")
    stamp = "20240712T112341Z"
    paths = [os.path.join(a.outdir, f"takeout-{stamp}-{i + 1:03d}.{f}") for i, f in enumerate(formats)]
    writers = []
    for p, f in zip(paths, formats):
        writers.append(zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) if f == "zip" else tarfile.open(p, "w:gz", compresslevel=1))
    n = [0]

    def add(path, data):
        w = writers[n[0] % len(writers)]
        n[0] += 1
        if isinstance(w, zipfile.ZipFile):
            w.writestr(zipfile.ZipInfo(path, date_time=(2024, 7, 12, 11, 23, 41)), data)
        else:
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mtime = 1720783421
            w.addfile(ti, io.BytesIO(data))

    root = "Takeout/Google Photos/"
    albums = [f"Album {i:02d}" for i in range(a.albums)]
    for i, title in enumerate(albums):
        add(f"{root}{title}/metadata.json", json.dumps({"title": title, "description": "", "access": "protected",
                                                        "date": {"timestamp": "1600000000"}}).encode())
    for i in range(a.items):
        year = 2015 + i % 10
        taken = int(time.mktime((year, 1 + i % 12, 1 + i % 28, 12, 0, 0, 0, 0, 0)))
        name = f"IMG_{i:06d}.jpg" if i % 7 else f"PXL_{year}0101_{i:09d}.LONG_EXPOSURE-01.COVER.jpg"
        data = jpeg(rng, a.size)
        meta = json.dumps({"title": name, "photoTakenTime": {"timestamp": str(taken)},
                           "creationTime": {"timestamp": str(taken + 60)},
                           "geoData": {"latitude": 48.85, "longitude": 2.29, "altitude": 80.0}}).encode()
        stored = name if len(name) - 4 <= 47 else name[:47] + ".jpg"
        add(f"{root}Photos from {year}/{stored}", data)
        add(f"{root}Photos from {year}/{sidecar_name(stored, rng)}", meta)
        if i % 10 == 0:   # a tenth of the photos are in an album, some in two
            for title in {albums[(i // 10) % len(albums)], albums[(i // 20) % len(albums)]}:
                add(f"{root}{title}/{stored}", data)
                add(f"{root}{title}/{sidecar_name(stored, rng)}", meta)
    for w in writers:
        w.close()
    print("\n".join(paths))


if __name__ == "__main__":
    main()
