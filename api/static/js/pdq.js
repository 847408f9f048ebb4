// PDQ, Meta's 256-bit perceptual image hash, computed in the browser so that a dropped image can be
// looked up by similarity without the image ever leaving the page: only the hex hashes are sent.
//
// Written for Kotowari after the published algorithm and its reference implementation: Meta
// ThreatExchange, pdq/ ("The TMK+PDQF Video-Hashing Algorithm and the PDQ Image Similarity
// Algorithm", pdq/cpp/hashing/pdqhashing.cpp, pdq/cpp/downscaling/downscaling.cpp,
// pdq/cpp/hashing/torben.cpp, pdq/cpp/common/pdqhashtypes.cpp), BSD licence, Copyright (c) Meta
// Platforms, Inc. and affiliates. The steps, each as the reference does it:
//   1. luminance Y = 0.299 R + 0.587 G + 0.114 B of every pixel;
//   2. two passes of a Jarosz box filter along rows then columns (window ceil(side / 128)), then
//      decimation to 64x64 by sampling each cell's centre;
//   3. quality: the sum of significant 64x64 gradients / 90, capped at 100;
//   4. the 16x16 low-frequency corner (rows and columns 1..16) of the 2-D DCT-II of the 64x64;
//   5. bit i*16+j set where coefficient (i, j) is above the median (the 128th smallest of 256);
//   6. the 7 other dihedral transforms (rotations and mirror images) from the same DCT by sign
//      changes and transposition;
//   7. hex: sixteen 16-bit words, the word holding bits 240..255 first (ThreatExchange's format,
//      the one `pdqhash` and `kotowari fingerprint` print).
// Decoding differs from Pillow's by a few grey levels here and there, which moves a handful of bits;
// tests/portal/test_portal_pdq.py measures that against the Python `pdqhash`. The browser turns a
// JPEG by its EXIF orientation and Pillow does not: the 7 variants sent along cover that.

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;
const MIN_HASHABLE_SIDE = 5;
const JAROSZ_PASSES = 2;
/** Longest side hashed: larger images are scaled down first, as `kotowari fingerprint` does. */
export const PDQ_MAX_SIDE = 2048;

const DCT = (() => {
  // Rows 1..16 of the 64-point DCT-II basis, row-major 16x64.
  const matrix = new Float64Array(16 * 64);
  const scale = Math.sqrt(2 / 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) matrix[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return matrix;
})();

/** Luminance of RGBA pixels (alpha ignored, as the Python side drops it). */
export function lumaFromRGBA(rgba, width, height) {
  const luma = new Float32Array(width * height);
  for (let k = 0, p = 0; k < luma.length; k++, p += 4) {
    luma[k] = LUMA_R * rgba[p] + LUMA_G * rgba[p + 1] + LUMA_B * rgba[p + 2];
  }
  return luma;
}

function jaroszWindow(oldSide, newSide) {
  return Math.floor((oldSide + 2 * newSide - 1) / (2 * newSide));
}

// One box-filter pass over `length` values `stride` apart, windows shrinking at the edges.
function box1D(input, output, offset, length, stride, window) {
  const half = Math.floor((window + 2) / 2);
  let sum = 0;
  let size = 0;
  let right = offset;
  let left = offset;
  let out = offset;
  for (let i = 0; i < half - 1; i++, right += stride) {
    sum += input[right];
    size++;
  }
  for (let i = 0; i < window - half + 1; i++, right += stride, out += stride) {
    sum += input[right];
    size++;
    output[out] = sum / size;
  }
  for (let i = 0; i < length - window; i++, left += stride, right += stride, out += stride) {
    sum += input[right] - input[left];
    output[out] = sum / size;
  }
  for (let i = 0; i < half - 1; i++, left += stride, out += stride) {
    sum -= input[left];
    size--;
    output[out] = sum / size;
  }
}

function downsample64(luma, width, height) {
  const scratch = new Float32Array(luma.length);
  const alongRows = jaroszWindow(width, 64);
  const alongColumns = jaroszWindow(height, 64);
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    for (let row = 0; row < height; row++) box1D(luma, scratch, row * width, width, 1, alongRows);
    for (let col = 0; col < width; col++) box1D(scratch, luma, col, height, width, alongColumns);
  }
  const out = new Float32Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    const row = Math.floor(((i + 0.5) * height) / 64);
    for (let j = 0; j < 64; j++) out[i * 64 + j] = luma[row * width + Math.floor(((j + 0.5) * width) / 64)];
  }
  return out;
}

/** The reference's quality score, 0-100: how many significant gradients the 64x64 image has. */
function quality64(buffer) {
  let sum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) sum += Math.abs(Math.trunc(((buffer[i * 64 + j] - buffer[(i + 1) * 64 + j]) * 100) / 255));
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) sum += Math.abs(Math.trunc(((buffer[i * 64 + j] - buffer[i * 64 + j + 1]) * 100) / 255));
  }
  return Math.min(100, Math.floor(sum / 90));
}

function dct16(buffer) {
  const partial = new Float64Array(16 * 64); // D · A
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum += DCT[i * 64 + k] * buffer[k * 64 + j];
      partial[i * 64 + j] = sum;
    }
  }
  const out = new Float64Array(256); // (D · A) · Dᵀ
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum += partial[i * 64 + k] * DCT[j * 64 + k];
      out[i * 16 + j] = sum;
    }
  }
  return out;
}

// The 8 dihedral transforms of a 16x16 DCT: [transpose, sign(i, j)] as the reference tabulates them.
const DIHEDRAL = [
  [false, () => 1], // original
  [true, (i, j) => (j & 1 ? 1 : -1)], // rotate 90
  [false, (i, j) => ((i + j) & 1 ? -1 : 1)], // rotate 180
  [true, (i) => (i & 1 ? 1 : -1)], // rotate 270
  [false, (i) => (i & 1 ? 1 : -1)], // flip x
  [false, (i, j) => (j & 1 ? 1 : -1)], // flip y
  [true, () => 1], // flip +1 (transpose)
  [true, (i, j) => ((i + j) & 1 ? -1 : 1)], // flip -1
];

function transform(dct, transpose, sign) {
  const out = new Float64Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) out[transpose ? j * 16 + i : i * 16 + j] = sign(i, j) * dct[i * 16 + j];
  }
  return out;
}

function toHex(dct) {
  const median = Float64Array.from(dct).sort()[127];
  const words = new Uint16Array(16);
  for (let k = 0; k < 256; k++) if (dct[k] > median) words[k >> 4] |= 1 << (k & 15);
  let hex = "";
  for (let w = 15; w >= 0; w--) hex += words[w].toString(16).padStart(4, "0");
  return hex;
}

/**
 * PDQ of a luminance image: { hash, quality, variants } with `hash` and the 7 `variants`
 * (rotations 90/180/270, mirror x/y, transposes) as 64 hex digits each. An image under 5 pixels
 * on a side has quality 0 and the all-zero hash, as in the reference. `luma` is overwritten.
 */
export function pdqFromLuma(luma, width, height) {
  if (width < MIN_HASHABLE_SIDE || height < MIN_HASHABLE_SIDE) {
    const zero = "0".repeat(64);
    return { hash: zero, quality: 0, variants: Array(7).fill(zero) };
  }
  const buffer = downsample64(luma, width, height);
  const quality = quality64(buffer);
  const dct = dct16(buffer);
  const hashes = DIHEDRAL.map(([transpose, sign]) => toHex(transform(dct, transpose, sign)));
  return { hash: hashes[0], quality, variants: hashes.slice(1) };
}

/** PDQ of RGBA pixels (an ImageData's `data`). */
export function pdqFromRGBA(rgba, width, height) {
  return pdqFromLuma(lumaFromRGBA(rgba, width, height), width, height);
}

/** The size an image is hashed at: its own, or scaled to PDQ_MAX_SIDE on the longest side. */
export function hashedSize(width, height) {
  const longest = Math.max(width, height);
  if (longest <= PDQ_MAX_SIDE) return [width, height];
  const scale = PDQ_MAX_SIDE / longest;
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/**
 * PDQ of an image file (a File or Blob), decoded here by the browser; null when the browser cannot
 * decode it as an image. Colour profiles are not applied (Pillow does not apply them either).
 */
export async function pdqOfImage(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    return null;
  }
  try {
    const [width, height] = hashedSize(bitmap.width, bitmap.height);
    if (width !== bitmap.width || height !== bitmap.height) {
      const full = bitmap;
      bitmap = await createImageBitmap(full, {
        resizeWidth: width,
        resizeHeight: height,
        resizeQuality: "high",
        colorSpaceConversion: "none",
        premultiplyAlpha: "none",
      });
      full.close();
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, width, height).data;
    return pdqFromRGBA(pixels, width, height);
  } finally {
    bitmap.close();
  }
}

/** Hamming distance between two 64-hex-digit hashes. */
export function hammingDistance(a, b) {
  let distance = 0;
  for (let k = 0; k < 64; k += 8) {
    let x = (parseInt(a.slice(k, k + 8), 16) ^ parseInt(b.slice(k, k + 8), 16)) >>> 0;
    while (x) {
      x &= x - 1;
      distance++;
    }
  }
  return distance;
}
