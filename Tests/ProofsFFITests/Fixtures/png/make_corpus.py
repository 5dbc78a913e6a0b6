#!/usr/bin/env python3
"""Writes the PNG test corpus for PNGDecoderTests / PerceptionHashTests.

corpus/   valid PNGs: every colour type x bit depth, plain and Adam7, odd sizes (1x1, 3x5, 65x63,
          64x64 which the resize passes through, larger and smaller than 64), grey / truecolour /
          palette tRNS, palette indices past PLTE, several IDAT layouts, stored / fixed / dynamic
          deflate blocks, every filter type (rows cycle through 0-4).
invalid/  broken PNGs for the decoder's error paths.

Deterministic: the pixel pattern comes from a fixed formula and LCG, zlib from Python's stdlib.
Run from anywhere: python3 make_corpus.py (rewrites both folders). The golden hashes come from
the Go reference program (reference/README.md).
"""
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


class Lcg:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
        return self.state >> 8


def pattern(w, h, ct, depth, seed, palette_size=None):
    """Per pixel, a list of channel samples in 0..2^depth-1: gradients, a disc, stripes, noise."""
    top = (1 << depth) - 1
    rng = Lcg(seed)
    rows = []
    for y in range(h):
        row = []
        for x in range(w):
            fx = x / max(w - 1, 1)
            fy = y / max(h - 1, 1)
            disc = 1.0 if (fx - 0.6) ** 2 + (fy - 0.4) ** 2 < 0.08 else 0.0
            stripe = 0.25 if (x // max(w // 7, 1)) % 2 else 0.0
            base = [0.55 * fx + 0.3 * disc + stripe, 0.7 * fy + 0.2 * disc, 0.5 * (1 - fx) + 0.4 * fy * disc,
                    0.3 + 0.7 * fx * fy]
            noise = (rng.next() % 1000) / 1000.0 * 0.05
            if ct == 3:
                value = int((0.5 * fx + 0.3 * fy + 0.3 * disc + noise) * palette_size) % palette_size
                row.append([value])
                continue
            samples = []
            for c in range(CHANNELS[ct]):
                v = base[c if ct in (2, 6) else (3 if c == 1 else 0)]
                v = min(max(v + noise, 0.0), 1.0)
                samples.append(int(round(v * top)))
            row.append(samples)
        rows.append(row)
    return rows


def pack_row(pixels, depth):
    if depth >= 8:
        out = bytearray()
        for samples in pixels:
            for s in samples:
                out += bytes([s]) if depth == 8 else struct.pack(">H", s)
        return bytes(out)
    out = bytearray()
    acc, bits = 0, 0
    for samples in pixels:
        acc = (acc << depth) | samples[0]
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp, first_filter):
    """Filters each packed row; the filter type cycles 0..4 from first_filter."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ftype = (first_filter + y) % 5
        filtered = bytearray()
        for i, value in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            filtered.append((value - predictor) & 0xFF)
        out.append(ftype)
        out += filtered
        prev = row
    return bytes(out)


def raw_data(pixels, w, h, ct, depth, interlace, first_filter):
    bpp = max(1, CHANNELS[ct] * depth // 8)
    if not interlace:
        return filter_rows([pack_row(r, depth) for r in pixels], bpp, first_filter)
    out = bytearray()
    for x0, y0, dx, dy in ADAM7:
        pw, ph = (w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy
        if pw == 0 or ph == 0:
            continue
        rows = [pack_row([pixels[y][x] for x in range(x0, w, dx)], depth) for y in range(y0, h, dy)]
        out += filter_rows(rows, bpp, first_filter)
    return bytes(out)


def compress(data, mode):
    if mode == "stored":
        return zlib.compress(data, 0)
    strategy = {"fixed": zlib.Z_FIXED, "rle": zlib.Z_RLE, "huffman": zlib.Z_HUFFMAN_ONLY}.get(mode, zlib.Z_DEFAULT_STRATEGY)
    z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, strategy)
    return z.compress(data) + z.flush()


def make_png(w, h, ct, depth, *, interlace=False, seed=1, palette_size=None, trns=None, plte_for_truecolor=False,
             idat_split=None, mode="dynamic", extra_chunks=(), trailing_idat=False, first_filter=None, pixels=None):
    if ct == 3 and palette_size is None:
        palette_size = min(1 << depth, 200)
    if pixels is None:
        pixels = pattern(w, h, ct, depth, seed, palette_size)
    out = bytearray(b"\x89PNG\r\n\x1a\n")
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ct, 0, 0, 1 if interlace else 0))
    for kind, data in extra_chunks:
        out += chunk(kind, data)
    if ct == 3 or plte_for_truecolor:
        count = palette_size if ct == 3 else 16
        rng = Lcg(seed * 7 + 3)
        plte = bytearray()
        for i in range(count):
            plte += bytes([(i * 97 + rng.next()) & 0xFF, (i * 31 + 40) & 0xFF, (255 - i * 13) & 0xFF])
        out += chunk(b"PLTE", bytes(plte))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    stream = compress(raw_data(pixels, w, h, ct, depth, interlace, seed % 5 if first_filter is None else first_filter), mode)
    if idat_split is None:
        out += chunk(b"IDAT", stream)
    else:
        for i in range(0, len(stream), idat_split):
            out += chunk(b"IDAT", stream[i:i + idat_split])
            if i == 0:
                out += chunk(b"IDAT", b"")  # an empty IDAT inside the run
    if trailing_idat:
        # Go reads only the first run of consecutive IDATs: this one, after tEXt, is skipped.
        out += chunk(b"tEXt", b"Comment\x00after the image data")
        out += chunk(b"IDAT", b"not zlib at all")
    out += chunk(b"IEND", b"")
    return bytes(out)


def corpus():
    files = {}
    kinds = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
             (4, 8), (4, 16), (6, 8), (6, 16)]
    seed = 1
    for ct, depth in kinds:
        for (w, h) in [(1, 1), (3, 5), (65, 63), (64, 64), (150, 97)]:
            seed += 1
            files[f"ct{ct}_d{depth}_{w}x{h}.png"] = make_png(w, h, ct, depth, seed=seed)
        for (w, h) in [(3, 5), (65, 63), (9, 130)]:
            seed += 1
            files[f"ct{ct}_d{depth}_{w}x{h}_adam7.png"] = make_png(w, h, ct, depth, seed=seed, interlace=True)
    # Grey tRNS (Go returns NRGBA / NRGBA64); depth 2 value 3 marks white, depth 8 a mid grey.
    for depth, value in [(1, 1), (2, 3), (4, 9), (8, 128), (16, 40000)]:
        files[f"trns_gray_d{depth}.png"] = make_png(65, 63, 0, depth, seed=depth + 50, trns=struct.pack(">H", value))
    files["trns_gray_d4_64x64.png"] = make_png(64, 64, 0, 4, seed=61, trns=struct.pack(">H", 7))
    files["trns_gray_d2_wrap.png"] = make_png(33, 20, 0, 2, seed=62, trns=struct.pack(">H", 0x0105))
    # Truecolour tRNS: pick a colour that occurs (pixel (0, 0)).
    for depth in (8, 16):
        px = pattern(65, 63, 2, depth, 70 + depth)
        r, g, b = px[0][0]
        t = struct.pack(">HHH", r, g, b)
        files[f"trns_rgb_d{depth}.png"] = make_png(65, 63, 2, depth, pixels=px, trns=t)
        files[f"trns_rgb_d{depth}_64x64.png"] = make_png(64, 64, 2, depth, seed=80 + depth, trns=b"\x00\x10\x00\x20\x00\x30")
    # Palette tRNS: shorter than PLTE, longer than PLTE, 64x64 (no resize), interlaced.
    files["trns_pal_d8_short.png"] = make_png(65, 63, 3, 8, seed=90, palette_size=40, trns=bytes(range(0, 200, 10)))
    files["trns_pal_d8_long.png"] = make_png(65, 63, 3, 8, seed=91, palette_size=30, trns=bytes((i * 5) & 0xFF for i in range(48)),
                                             pixels=[[[(x + 2 * y) % 48] for x in range(65)] for y in range(63)])
    files["trns_pal_d4_64x64.png"] = make_png(64, 64, 3, 4, seed=92, palette_size=16, trns=bytes([0, 64, 128, 255, 30]))
    files["trns_pal_d2_adam7.png"] = make_png(65, 63, 3, 2, seed=93, palette_size=4, trns=bytes([255, 0, 100]), interlace=True)
    # Palette indices past the PLTE entries (Go pads with opaque black) in plain images.
    files["pal_out_of_range_d8.png"] = make_png(65, 63, 3, 8, seed=94, palette_size=10,
                                                pixels=[[[(x * 3 + y) % 25] for x in range(65)] for y in range(63)])
    files["pal_out_of_range_d4.png"] = make_png(40, 70, 3, 4, seed=95, palette_size=5,
                                                pixels=[[[(x + y) % 16] for x in range(40)] for y in range(70)])
    # IDAT layouts, deflate block kinds, extra chunks.
    files["idat_split_1byte.png"] = make_png(20, 30, 2, 8, seed=100, idat_split=1)
    files["idat_split_7bytes_adam7.png"] = make_png(65, 63, 6, 8, seed=101, idat_split=7, interlace=True)
    files["idat_split_100bytes.png"] = make_png(150, 97, 0, 16, seed=102, idat_split=100)
    files["idat_trailing_ignored.png"] = make_png(65, 63, 2, 8, seed=103, trailing_idat=True)
    for mode in ("stored", "fixed", "rle", "huffman"):
        files[f"deflate_{mode}.png"] = make_png(65, 63, 2, 8, seed=104, mode=mode)
    files["truecolor_with_plte.png"] = make_png(65, 63, 2, 8, seed=105, plte_for_truecolor=True)
    files["ancillary_chunks.png"] = make_png(65, 63, 6, 8, seed=106, extra_chunks=[
        (b"gAMA", struct.pack(">I", 45455)), (b"tEXt", b"Title\x00corpus"), (b"zzZz", b"unknown ancillary")])
    for f in range(5):
        files[f"filter_start_{f}_rgb16.png"] = make_png(31, 33, 2, 16, seed=110 + f, first_filter=f)
    files["wide_513x7.png"] = make_png(513, 7, 6, 8, seed=120)
    files["tall_7x513_adam7.png"] = make_png(7, 513, 0, 8, seed=121, interlace=True)
    files["big_300x200_rgb8.png"] = make_png(300, 200, 2, 8, seed=122)
    # The same pixels plain and Adam7 (decoders must agree pixel for pixel).
    for ct, depth in [(3, 2), (0, 4), (6, 16)]:
        files[f"same_ct{ct}_d{depth}_plain.png"] = make_png(37, 29, ct, depth, seed=130 + ct)
        files[f"same_ct{ct}_d{depth}_adam7.png"] = make_png(37, 29, ct, depth, seed=130 + ct, interlace=True)
    return files


def invalid(valid):
    files = {}
    files["bad_signature.png"] = b"\x89PNX\r\n\x1a\n" + valid[8:]
    broken = bytearray(valid)
    broken[29] ^= 0xFF  # last byte of the IHDR CRC
    files["bad_crc_ihdr.png"] = bytes(broken)
    files["truncated_in_idat.png"] = valid[:len(valid) // 2]
    files["truncated_no_iend.png"] = valid[:-12]
    files["signature_only.png"] = valid[:8]
    files["zero_width.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 5)) + chunk(b"IEND", b"")
    files["bad_zlib_checksum.png"] = build_raw(4, 4, 0, 8, zlib.compress(b"\x00\x01\x02\x03\x04" * 4)[:-1] + b"\x00")
    files["bad_zlib_header.png"] = build_raw(4, 4, 0, 8, b"\x78\x9d" + zlib.compress(b"\x00" * 20)[2:])
    files["bad_filter_type.png"] = build_raw(4, 4, 0, 8, zlib.compress(b"\x00abcd\x00abcd\x07abcd\x00abcd"))
    files["not_enough_data.png"] = build_raw(4, 4, 0, 8, zlib.compress(b"\x00abcd" * 3))
    files["too_much_data.png"] = build_raw(4, 4, 0, 8, zlib.compress(b"\x00abcd" * 5))
    files["bad_depth_for_color.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 4, 4, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 20)) + chunk(b"IEND", b"")
    files["palette_missing.png"] = build_raw(4, 4, 3, 8, zlib.compress(b"\x00abcd" * 4))
    return files


def build_raw(w, h, ct, depth, stream):
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ct, 0, 0, 0)) + \
        chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def main():
    for name in ("corpus", "invalid"):
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
        os.makedirs(os.path.join(HERE, name))
    files = corpus()
    for name, data in files.items():
        with open(os.path.join(HERE, "corpus", name), "wb") as f:
            f.write(data)
    for name, data in invalid(files["ct2_d8_65x63.png"]).items():
        with open(os.path.join(HERE, "invalid", name), "wb") as f:
            f.write(data)
    print(f"{len(files)} valid, {len(os.listdir(os.path.join(HERE, 'invalid')))} invalid")


if __name__ == "__main__":
    main()
