// AssemblyScript source of the kit's own WebAssembly SIMD training kernels (compiled by scripts/build-simd.mjs
// into dist/simd/*.wasm at install). The module imports the wasm backend's own memory, so every pointer below
// is a byte offset into tfjs's heap: kernels read x and dy where tfjs keeps them and write the result into a
// tensor tfjs allocated. Nothing here allocates, and the module has no data segment (it must not write
// anything into the heap it borrows when instantiated).
//
// Threads. Every kernel that splits work takes `lo, hi` first: the half-open range of its work units (output rows,
// images, channel groups …) that this call computes. One thread calls it once over all units; the kit's worker pool
// (lib/backend/simd/pool.ts) calls it on chunks of units from several threads at once, over the same shared memory.
// Units never share an output element, and each output element is computed by exactly the same additions in the
// same order whichever call computes it, so the results do not depend on the number of threads (bit for bit).

/**
 * Conv2DBackpropFilter, stride 1, dilation 1, NHWC, float32, for the images b in [lo, hi):
 *   P_b[i, j, c, o] = Σ_{y, x} x[b, y + i − pt, x + j − pl, c] · dy[b, y, x, o]
 * over the output pixels whose tap (i, j) falls inside x (no padded copy of x is made), each sum accumulated from +0
 * in (y, x) order. With `slot` = 0, P_b is added into `out` [fh, fw, ci, co] (zero on entry) for b = lo, lo + 1, …
 * in turn: out = ((0 + P_0) + P_1) + … — the one-thread kernel — with P_b built in `acc` (fh·fw·ci·co floats of
 * scratch). With `slot` > 0, P_b is built in place at out + b·slot and `sumImages` adds them in the same order.
 * Needs co ≥ 4 and co % 4 = 0; any ci.
 *
 * Register tile: 4 input channels × 8 output channels (8 f32x4 accumulators), per tap, over the pixels of a block
 * of `block` rows of dy; between blocks a tile's sums wait in P_b (stored and reloaded exactly, so each is still one
 * chain of additions), and the block's rows of x and dy stay in cache for all fh·fw taps. Edge tiles repeat the last
 * channel (row) or the last 4 output channels (column); repeats compute and store equal values.
 */
export function conv2dFilterGradImages(
  lo: i32, hi: i32,
  x: usize, dy: usize, out: usize, slot: usize, acc: usize, block: i32,
  h: i32, w: i32, ci: i32,
  oh: i32, ow: i32, co: i32,
  fh: i32, fw: i32, pt: i32, pl: i32,
): void {
  const xPix = <usize>ci << 2; // bytes per pixel of x
  const dyPix = <usize>co << 2; // bytes per pixel of dy
  const size = <usize>(fh * fw * ci * co) << 2; // bytes of one P_b
  // A 1×1 unpadded filter (every tile meets every pixel), one block per image and one thread: each tile's P_b is
  // summed in registers and added straight into out (out + P_b, as the pass at the end adds it) — no scratch to
  // clear, store, reload and add.
  const direct = slot === 0 && block >= oh && fh === 1 && fw === 1 && pt === 0 && pl === 0;
  for (let b = lo; b < hi; b++) {
    const p = slot > 0 ? out + <usize>b * slot : acc;
    if (!direct) memory.fill(p, 0, size);
    for (let yb = 0; yb < oh; yb += block) {
      const ye = min(oh, yb + block);
      for (let i = 0; i < fh; i++) {
        const y0 = max(yb, pt - i);
        const y1 = min(ye, h + pt - i);
        if (y1 <= y0) continue;
        for (let j = 0; j < fw; j++) {
          const x0 = max(0, pl - j);
          const x1 = min(ow, w + pl - j);
          if (x1 <= x0) continue;
          const tap = <usize>((i * fw + j) * ci);
          for (let c0 = 0; c0 < ci; c0 += 4) {
            const c1 = <usize>min(c0 + 1, ci - 1);
            const c2 = <usize>min(c0 + 2, ci - 1);
            const c3 = <usize>min(c0 + 3, ci - 1);
            const r0 = p + ((tap + <usize>c0) * <usize>co << 2);
            const r1 = p + ((tap + c1) * <usize>co << 2);
            const r2 = p + ((tap + c2) * <usize>co << 2);
            const r3 = p + ((tap + c3) * <usize>co << 2);
            for (let o0 = 0; o0 < co; o0 += 8) {
              const oA = <usize>o0 << 2;
              const oB = <usize>min(o0 + 4, co - 4) << 2;
              const zero = f32x4.splat(0);
              let a0 = direct ? zero : v128.load(r0 + oA), b0 = direct ? zero : v128.load(r0 + oB);
              let a1 = direct ? zero : v128.load(r1 + oA), b1 = direct ? zero : v128.load(r1 + oB);
              let a2 = direct ? zero : v128.load(r2 + oA), b2 = direct ? zero : v128.load(r2 + oB);
              let a3 = direct ? zero : v128.load(r3 + oA), b3 = direct ? zero : v128.load(r3 + oB);
              for (let y = y0; y < y1; y++) {
                let xp = x + (((<usize>(b * h + y + i - pt) * <usize>w) + <usize>(x0 + j - pl)) * xPix);
                let dp = dy + (((<usize>(b * oh + y) * <usize>ow) + <usize>x0) * dyPix);
                for (let xx = x0; xx < x1; xx++) {
                  const dA = v128.load(dp + oA);
                  const dB = v128.load(dp + oB);
                  const s0 = v128.load32_splat(xp + (<usize>c0 << 2));
                  const s1 = v128.load32_splat(xp + (c1 << 2));
                  const s2 = v128.load32_splat(xp + (c2 << 2));
                  const s3 = v128.load32_splat(xp + (c3 << 2));
                  a0 = f32x4.add(a0, f32x4.mul(s0, dA));
                  b0 = f32x4.add(b0, f32x4.mul(s0, dB));
                  a1 = f32x4.add(a1, f32x4.mul(s1, dA));
                  b1 = f32x4.add(b1, f32x4.mul(s1, dB));
                  a2 = f32x4.add(a2, f32x4.mul(s2, dA));
                  b2 = f32x4.add(b2, f32x4.mul(s2, dB));
                  a3 = f32x4.add(a3, f32x4.mul(s3, dA));
                  b3 = f32x4.add(b3, f32x4.mul(s3, dB));
                  xp += xPix;
                  dp += dyPix;
                }
              }
              if (direct) {
                // out + P_b per element. Repeated rows and columns add equal sums to equal values, so each repeated
                // element must be added once: the distinct rows (c1..c3 may repeat c0..) and columns (oB may be oA).
                const q0 = out + (r0 - p), q1 = out + (r1 - p), q2 = out + (r2 - p), q3 = out + (r3 - p);
                addTile(q0, oA, oB, a0, b0);
                if (r1 !== r0) addTile(q1, oA, oB, a1, b1);
                if (r2 !== r1) addTile(q2, oA, oB, a2, b2);
                if (r3 !== r2) addTile(q3, oA, oB, a3, b3);
              } else {
                // Repeated rows and columns hold equal sums, so the order of these stores does not matter.
                v128.store(r3 + oB, b3); v128.store(r3 + oA, a3);
                v128.store(r2 + oB, b2); v128.store(r2 + oA, a2);
                v128.store(r1 + oB, b1); v128.store(r1 + oA, a1);
                v128.store(r0 + oB, b0); v128.store(r0 + oA, a0);
              }
            }
          }
        }
      }
    }
    if (slot === 0 && !direct) {
      for (let e: usize = 0; e < size; e += 16) v128.store(out + e, f32x4.add(v128.load(out + e), v128.load(acc + e)));
    }
  }
}

// @ts-ignore: decorator
@inline
function addTile(row: usize, oA: usize, oB: usize, a: v128, b: v128): void {
  v128.store(row + oA, f32x4.add(v128.load(row + oA), a));
  if (oB !== oA) v128.store(row + oB, f32x4.add(v128.load(row + oB), b));
}

/**
 * out[e] = ((+0 + P_0[e]) + P_1[e]) + … + P_{count−1}[e] for the per-image partial sums P_b at src + b·slot (bytes),
 * over elements [16·lo, min(16·hi, size)) (a unit = 16 floats; size % 4 = 0): the additions conv2dFilterGradImages
 * makes with slot = 0, in the same order.
 */
export function sumImages(lo: i32, hi: i32, src: usize, out: usize, slot: usize, count: i32, size: i32): void {
  const end = <usize>min(hi << 4, size) << 2;
  for (let e = <usize>(lo << 4) << 2; e < end; e += 64) {
    const wide = e + 64 <= end;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let p = src + e;
    if (wide) {
      for (let b = 0; b < count; b++) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        s2 = f32x4.add(s2, v128.load(p, 32));
        s3 = f32x4.add(s3, v128.load(p, 48));
        p += slot;
      }
      v128.store(out + e, s0);
      v128.store(out + e, s1, 16);
      v128.store(out + e, s2, 32);
      v128.store(out + e, s3, 48);
    } else {
      for (let q = e; q < end; q += 16) {
        s0 = f32x4.splat(0);
        p = src + q;
        for (let b = 0; b < count; b++) {
          s0 = f32x4.add(s0, v128.load(p));
          p += slot;
        }
        v128.store(out + q, s0);
      }
    }
  }
}

/**
 * MaxPoolGrad for 2×2 windows, stride 2, every window inside x, c % 4 = 0 (NHWC, float32), for the pooled rows
 * r = b·oh + oy in [lo, hi). Each window's first maximum in row-major order gets dy, the other three get 0 —
 * tfjs's cpu semantics: the search starts from −∞ with strict comparisons, so NaN and −∞ never win and a window of
 * only those gets no gradient. Every dx element a window covers is written once; the caller zeroes rows/columns no
 * window covers.
 */
export function maxPoolGrad2x2Rows(lo: i32, hi: i32, x: usize, dy: usize, dx: usize, h: i32, w: i32, c: i32, oh: i32, ow: i32): void {
  const row = <usize>(w * c) << 2;
  const pix = <usize>c << 2;
  const negInf = f32x4.splat(-Infinity);
  let d = dy + <usize>lo * <usize>ow * pix;
  for (let r = lo; r < hi; r++) {
    const b = r / oh;
    const oy = r % oh;
    let p00 = (<usize>(b * h + 2 * oy) * <usize>w * <usize>c) << 2;
    for (let ox = 0; ox < ow; ox++) {
      for (let k: usize = 0; k < pix; k += 16) {
        const q00 = p00 + k;
        const q01 = q00 + pix;
        const q10 = q00 + row;
        const q11 = q10 + pix;
        const v00 = v128.load(x + q00);
        const v01 = v128.load(x + q01);
        const v10 = v128.load(x + q10);
        const v11 = v128.load(x + q11);
        const m0 = f32x4.gt(v00, negInf);
        let best = v128.bitselect(v00, negInf, m0);
        const m1 = f32x4.gt(v01, best);
        best = v128.bitselect(v01, best, m1);
        const m2 = f32x4.gt(v10, best);
        best = v128.bitselect(v10, best, m2);
        const m3 = f32x4.gt(v11, best);
        // Winner masks: the last window element that raised the maximum.
        const w3 = m3;
        const w2 = v128.andnot(m2, m3);
        const w1 = v128.andnot(v128.andnot(m1, m2), m3);
        const w0 = v128.andnot(v128.andnot(v128.andnot(m0, m1), m2), m3);
        const g = v128.load(d);
        v128.store(dx + q00, v128.and(g, w0));
        v128.store(dx + q01, v128.and(g, w1));
        v128.store(dx + q10, v128.and(g, w2));
        v128.store(dx + q11, v128.and(g, w3));
        d += 16;
      }
      p00 += pix << 1;
    }
  }
}

/**
 * A 'valid' convolution of an already padded NHWC input with strides (sh, sw), float32, for the output rows
 * r = b·oh + y in [lo, hi):
 *   out[b, y, x, o] = act(bias[o] + Σ_{i, j, c} xp[b, y·sh + i, x·sw + j, c] · w[i, j, c, o])     (xp: [n, hp, wp, ci])
 * summed from the bias (+0 when `bias` = 0) in (i, j, c) order — the order of XNNPACK's convolution, whose results
 * these are bit for bit. act: 0 = none, 1 = relu as XNNPACK clamps (max(0, v) by pmax). Needs co % 4 = 0; any ci.
 * Results are stored (not added).
 *
 * Register tile: 4 output pixels of a row × 8 output channels (8 f32x4 accumulators), reduced over fh rows of
 * fw·ci values each (one filter row's taps and channels lie contiguous in xp and in w). A row narrower than 4 pixels
 * goes one pixel at a time; the last group of a wider row overlaps the previous one and stores the same values
 * again, as does a last column block repeating 4 channels.
 */
export function conv2dRows(
  lo: i32, hi: i32,
  xp: usize, w: usize, bias: usize, out: usize,
  hp: i32, wp: i32, ci: i32, co: i32, oh: i32, ow: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, act: i32,
): void {
  const xPix = <usize>ci << 2;
  const oPix = <usize>co << 2;
  const xRow = <usize>wp * xPix;
  const run = fw * ci; // one filter row: fw taps × ci channels, contiguous in xp and in w
  const wRow = <usize>run * oPix;
  const group = ow >= 4 ? 4 : 1;
  // Pixels 1..3 of the group (the same pixel when the row is narrower than 4).
  const q1 = group === 4 ? <usize>sw * xPix : 0;
  const q2 = q1 << 1;
  const q3 = q1 + q2;
  const qo = group === 4 ? oPix : 0;
  const zero = f32x4.splat(0);
  for (let r = lo; r < hi; r++) {
    const b = r / oh;
    const y = r % oh;
    const inRow = xp + <usize>(b * hp + y * sh) * xRow;
    const outRow = out + <usize>r * <usize>ow * oPix;
    for (let x0 = 0; x0 < ow; x0 += group) {
      const x = min(x0, ow - group);
      const p0 = inRow + <usize>(x * sw) * xPix;
      for (let o0 = 0; o0 < co; o0 += 8) {
        const oA = <usize>o0 << 2;
        const oB = <usize>min(o0 + 4, co - 4) << 2;
        const initA = bias ? v128.load(bias + oA) : zero;
        const initB = bias ? v128.load(bias + oB) : zero;
        let a0 = initA, b0 = initB;
        let a1 = initA, b1 = initB;
        let a2 = initA, b2 = initB;
        let a3 = initA, b3 = initB;
        for (let i = 0; i < fh; i++) {
          let xpp = p0 + <usize>i * xRow;
          let wa = w + <usize>i * wRow + oA;
          const dB = oB - oA;
          const end = xpp + (<usize>run << 2);
          while (xpp < end) {
            const wA = v128.load(wa);
            const wB = v128.load(wa + dB);
            const s0 = v128.load32_splat(xpp);
            const s1 = v128.load32_splat(xpp + q1);
            const s2 = v128.load32_splat(xpp + q2);
            const s3 = v128.load32_splat(xpp + q3);
            a0 = f32x4.add(a0, f32x4.mul(s0, wA));
            b0 = f32x4.add(b0, f32x4.mul(s0, wB));
            a1 = f32x4.add(a1, f32x4.mul(s1, wA));
            b1 = f32x4.add(b1, f32x4.mul(s1, wB));
            a2 = f32x4.add(a2, f32x4.mul(s2, wA));
            b2 = f32x4.add(b2, f32x4.mul(s2, wB));
            a3 = f32x4.add(a3, f32x4.mul(s3, wA));
            b3 = f32x4.add(b3, f32x4.mul(s3, wB));
            xpp += 4;
            wa += oPix;
          }
        }
        if (act === 1) {
          a0 = f32x4.pmax(zero, a0); b0 = f32x4.pmax(zero, b0);
          a1 = f32x4.pmax(zero, a1); b1 = f32x4.pmax(zero, b1);
          a2 = f32x4.pmax(zero, a2); b2 = f32x4.pmax(zero, b2);
          a3 = f32x4.pmax(zero, a3); b3 = f32x4.pmax(zero, b3);
        }
        const r0 = outRow + <usize>x * oPix;
        // Stores are idempotent: repeated pixels or channels write equal values to the same place.
        v128.store(r0 + oB, b0);
        v128.store(r0 + oA, a0);
        v128.store(r0 + qo + oB, b1);
        v128.store(r0 + qo + oA, a1);
        v128.store(r0 + 2 * qo + oB, b2);
        v128.store(r0 + 2 * qo + oA, a2);
        v128.store(r0 + 3 * qo + oB, b3);
        v128.store(r0 + 3 * qo + oA, a3);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function lo2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline
function hi2(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

/**
 * Sum over the middle axis of x viewed as [a, r, b] (float32), times `scale`, into out [a, b]; b % 4 = 0.
 * The same float64 additions in the same order as the JavaScript loop it replaces (lib/backend/kernels/reduce.ts:
 * acc += (x0 + x1) + (x2 + x3) per four rows, then one row at a time), so the results are identical, bit for
 * bit. Eight columns at a time; a width ≡ 4 (mod 8) repeats four columns in its last block and stores them again.
 */
export function sumMiddle(x: usize, out: usize, a: i32, r: i32, b: i32, scale: f64): void {
  const row = <usize>b << 2;
  const s = f64x2.splat(scale);
  const wide = b >= 8;
  for (let i = 0; i < a; i++) {
    const base = x + <usize>i * <usize>r * row;
    for (let j0 = 0; j0 < b; j0 += 8) {
      const j = <usize>(wide ? min(j0, b - 8) : 0) << 2;
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      let p = base + j;
      let k = 0;
      for (; k + 4 <= r; k += 4) {
        const v0 = v128.load(p), v1 = v128.load(p + row), v2 = v128.load(p + 2 * row), v3 = v128.load(p + 3 * row);
        s0 = f64x2.add(s0, f64x2.add(f64x2.add(lo2(v0), lo2(v1)), f64x2.add(lo2(v2), lo2(v3))));
        s1 = f64x2.add(s1, f64x2.add(f64x2.add(hi2(v0), hi2(v1)), f64x2.add(hi2(v2), hi2(v3))));
        if (wide) {
          const w0 = v128.load(p, 16), w1 = v128.load(p + row, 16), w2 = v128.load(p + 2 * row, 16), w3 = v128.load(p + 3 * row, 16);
          s2 = f64x2.add(s2, f64x2.add(f64x2.add(lo2(w0), lo2(w1)), f64x2.add(lo2(w2), lo2(w3))));
          s3 = f64x2.add(s3, f64x2.add(f64x2.add(hi2(w0), hi2(w1)), f64x2.add(hi2(w2), hi2(w3))));
        }
        p += 4 * row;
      }
      for (; k < r; k++) {
        const v = v128.load(p);
        s0 = f64x2.add(s0, lo2(v));
        s1 = f64x2.add(s1, hi2(v));
        if (wide) {
          const w = v128.load(p, 16);
          s2 = f64x2.add(s2, lo2(w));
          s3 = f64x2.add(s3, hi2(w));
        }
        p += row;
      }
      const o = out + (<usize>i * row) + j;
      v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(f64x2.mul(s0, s)), f32x4.demote_f64x2_zero(f64x2.mul(s1, s)), 0, 1, 4, 5));
      if (wide) v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(f64x2.mul(s2, s)), f32x4.demote_f64x2_zero(f64x2.mul(s3, s)), 0, 1, 4, 5), 16);
      if (!wide) break;
    }
  }
}

/** out[k, :] = x[k, :] + bias for the rows k in [lo, hi) of c values (float32, c % 4 = 0). */
export function addBiasRows(lo: i32, hi: i32, x: usize, bias: usize, out: usize, c: i32): void {
  const row = <usize>c << 2;
  for (let k = lo; k < hi; k++) {
    const xo = x + <usize>k * row;
    const oo = out + <usize>k * row;
    for (let j: usize = 0; j < row; j += 16) v128.store(oo + j, f32x4.add(v128.load(xo + j), v128.load(bias + j)));
  }
}

/**
 * DepthwiseConv2dNativeBackpropFilter with channel multiplier 1, c % 4 = 0 (NHWC, float32), any strides,
 * dilations and pads, for the channels [4·lo, 4·hi):
 *   dW[i, j, k] = Σ_{b, oy, ox} x[b, oy·sh + i·dh − pt, ox·sw + j·dw − pl, k] · dy[b, oy, ox, k]
 * Products and sums in float64 (`acc`: fh·fw·c doubles, zero on entry), in the same loop order as the
 * JavaScript loop it replaces, so the result is identical to it; then rounded once into `out` [fh, fw, c].
 */
export function depthwiseFilterGradChannels(
  lo: i32, hi: i32,
  x: usize, dy: usize, acc: usize, out: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32,
): void {
  const px = <usize>c << 2; // bytes per pixel (float32)
  const tap = <usize>c << 3; // bytes per tap of acc (float64)
  const k0 = <usize>lo << 4;
  const k1 = <usize>hi << 4;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let i = 0; i < fh; i++) {
        const y = oy * sh + i * dh - pt;
        if (y < 0 || y >= h) continue;
        for (let ox = 0; ox < ow; ox++) {
          const dp = dy + <usize>((b * oh + oy) * ow + ox) * px;
          for (let j = 0; j < fw; j++) {
            const xx = ox * sw + j * dw - pl;
            if (xx < 0 || xx >= w) continue;
            const xp = x + <usize>((b * h + y) * w + xx) * px;
            const ap = acc + <usize>(i * fw + j) * tap;
            for (let k = k0; k < k1; k += 16) {
              const xv = v128.load(xp + k);
              const dv = v128.load(dp + k);
              const a = ap + (k << 1);
              v128.store(a, f64x2.add(v128.load(a), f64x2.mul(lo2(xv), lo2(dv))));
              v128.store(a, f64x2.add(v128.load(a, 16), f64x2.mul(hi2(xv), hi2(dv))), 16);
            }
          }
        }
      }
    }
  }
  for (let t = 0; t < fh * fw; t++) {
    for (let k = k0; k < k1; k += 16) {
      const q = <usize>t * px + k;
      const l = f32x4.demote_f64x2_zero(v128.load(acc + (q << 1)));
      const u = f32x4.demote_f64x2_zero(v128.load(acc + (q << 1), 16));
      v128.store(out + q, i32x4.shuffle(l, u, 0, 1, 4, 5));
    }
  }
}

/**
 * DepthwiseConv2dNative (multiplier 1, c % 4 = 0, NHWC, float32) for the output rows r = b·oh + oy in [lo, hi):
 *   out[b, oy, ox, k] = Σ_{j, i} x[b, oy·sh + i·dh − pt, ox·sw + j·dw − pl, k] · w[i, j, k]
 * summed from +0 over the taps inside x in XNNPACK's order — column by column (j outer, i inner) — so the results
 * are XNNPACK's bit for bit (its padding only adds zero products). Sixteen channels (4 vectors) per pass; the last
 * pass of a channel count that is not a multiple of 16 repeats vectors and stores them again.
 */
export function depthwiseConvRows(
  lo: i32, hi: i32,
  x: usize, w: usize, out: usize,
  h: i32, wd: i32, c: i32, oh: i32, ow: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32,
): void {
  const px = <usize>c << 2;
  const last = px - 16;
  const rowBytes = <usize>wd * px;
  const tapRow = <usize>dh * rowBytes; // x bytes from tap row i to i + 1
  const tapCol = <usize>dw * px; // from tap column j to j + 1
  const wRow = <usize>fw * px; // filter bytes from tap row i to i + 1
  for (let r = lo; r < hi; r++) {
    const b = r / oh;
    const oy = r % oh;
    // The taps inside x: rows [i0, i1) for this output row, columns [j0, j1) per output pixel (computed once,
    // not tested per tap); the order of the additions is the one above.
    let i0 = 0;
    while (i0 < fh && oy * sh + i0 * dh - pt < 0) i0++;
    let i1 = fh;
    while (i1 > i0 && oy * sh + (i1 - 1) * dh - pt >= h) i1--;
    const rows = i1 - i0;
    const xRow = x + <usize>(b * h + oy * sh + i0 * dh - pt) * rowBytes; // row of tap i0, column 0
    const wTop = w + <usize>i0 * wRow;
    for (let ox = 0; ox < ow; ox++) {
      let j0 = 0;
      while (j0 < fw && ox * sw + j0 * dw - pl < 0) j0++;
      let j1 = fw;
      while (j1 > j0 && ox * sw + (j1 - 1) * dw - pl >= wd) j1--;
      const op = out + (<usize>r * <usize>ow + <usize>ox) * px;
      const xStart = xRow + <usize>(ox * sw + j0 * dw - pl) * px;
      const wStart = wTop + <usize>j0 * px;
      for (let k: usize = 0; k < px; k += 64) {
        const kB = min(k + 16, last);
        const kC = min(k + 32, last);
        const kD = min(k + 48, last);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let xj = xStart;
        let wj = wStart;
        for (let j = j0; j < j1; j++) {
          let xp = xj;
          let wp = wj;
          for (let i = 0; i < rows; i++) {
            a0 = f32x4.add(a0, f32x4.mul(v128.load(xp + k), v128.load(wp + k)));
            a1 = f32x4.add(a1, f32x4.mul(v128.load(xp + kB), v128.load(wp + kB)));
            a2 = f32x4.add(a2, f32x4.mul(v128.load(xp + kC), v128.load(wp + kC)));
            a3 = f32x4.add(a3, f32x4.mul(v128.load(xp + kD), v128.load(wp + kD)));
            xp += tapRow;
            wp += wRow;
          }
          xj += tapCol;
          wj += px;
        }
        v128.store(op + kD, a3);
        v128.store(op + kC, a2);
        v128.store(op + kB, a1);
        v128.store(op + k, a0);
      }
    }
  }
}

/**
 * DepthwiseConv2dNativeBackpropInput (multiplier 1, c % 4 = 0, NHWC, float32) for the input rows r = b·h + y in
 * [lo, hi):
 *   dx[b, y, x, k] = Σ_{j, i} dy[b, (y + pt − i·dh) / sh, (x + pl − j·dw) / sw, k] · w[i, j, k]
 * over the taps whose quotients are whole and inside dy, j and i both descending: the order in which XNNPACK's
 * depthwise convolution of the zero-dilated dy by the flipped filter adds them (the formulation this replaces,
 * bit for bit; the zeros it adds change nothing). Sixteen channels per pass, as in depthwiseConvRows.
 */
export function depthwiseInputGradRows(
  lo: i32, hi: i32,
  dy: usize, w: usize, dx: usize,
  h: i32, wd: i32, c: i32, oh: i32, ow: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32,
): void {
  const px = c << 2;
  const last = px - 16;
  const dyRowBytes = ow * px;
  // The taps that reach a pixel, in either direction, form an arithmetic progression of tap indices (descending,
  // step p = s / gcd(s, d)), found once per row and once per column instead of tested per tap.
  const pi = sh / gcd(sh, dh);
  const pj = sw / gcd(sw, dw);
  const dyRowStep = ((pi * dh) / sh) * dyRowBytes; // dy bytes from one reaching tap row to the next
  const wRowStep = -pi * fw * px; // filter bytes, tap row i to i − p
  const dyColStep = ((pj * dw) / sw) * px;
  const wColStep = -pj * px;
  for (let r = lo; r < hi; r++) {
    const b = r / h;
    const y = r % h;
    const iS = firstTap(y + pt, fh, dh, sh, oh);
    const ni = iS < 0 ? 0 : tapCount(y + pt, iS, pi, dh, sh, oh);
    const dyRow = <i32>dy + (b * oh + (iS < 0 ? 0 : (y + pt - iS * dh) / sh)) * dyRowBytes;
    const wRow = <i32>w + (iS < 0 ? 0 : iS) * fw * px;
    for (let x = 0; x < wd; x++) {
      const op = dx + (<usize>r * <usize>wd + <usize>x) * <usize>px;
      const jS = firstTap(x + pl, fw, dw, sw, ow);
      const nj = jS < 0 || ni === 0 ? 0 : tapCount(x + pl, jS, pj, dw, sw, ow);
      const dyStart = dyRow + (jS < 0 ? 0 : (x + pl - jS * dw) / sw) * px;
      const wStart = wRow + (jS < 0 ? 0 : jS) * px;
      for (let k = 0; k < px; k += 64) {
        const kB = min(k + 16, last);
        const kC = min(k + 32, last);
        const kD = min(k + 48, last);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let dj = dyStart;
        let wj = wStart;
        for (let jj = 0; jj < nj; jj++) {
          let dp = dj;
          let wp = wj;
          for (let ii = 0; ii < ni; ii++) {
            a0 = f32x4.add(a0, f32x4.mul(v128.load(<usize>(dp + k)), v128.load(<usize>(wp + k))));
            a1 = f32x4.add(a1, f32x4.mul(v128.load(<usize>(dp + kB)), v128.load(<usize>(wp + kB))));
            a2 = f32x4.add(a2, f32x4.mul(v128.load(<usize>(dp + kC)), v128.load(<usize>(wp + kC))));
            a3 = f32x4.add(a3, f32x4.mul(v128.load(<usize>(dp + kD)), v128.load(<usize>(wp + kD))));
            dp += dyRowStep;
            wp += wRowStep;
          }
          dj += dyColStep;
          wj += wColStep;
        }
        v128.store(op + <usize>kD, a3);
        v128.store(op + <usize>kC, a2);
        v128.store(op + <usize>kB, a1);
        v128.store(op + <usize>k, a0);
      }
    }
  }
}

function gcd(a: i32, b: i32): i32 {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * The largest tap index t < f whose position q − t·d is a whole multiple of s inside [0, s·o) (the tap reaches a
 * pixel at q = position + pad), or −1.
 */
function firstTap(q: i32, f: i32, d: i32, s: i32, o: i32): i32 {
  for (let t = f - 1; t >= 0; t--) {
    const u = q - t * d;
    if (u < 0 || u % s !== 0) continue;
    return u / s < o ? t : -1; // smaller taps only lie further along
  }
  return -1;
}

/** How many taps t = t0, t0 − p, … ≥ 0 reach a pixel at q (their positions q − t·d / s stay below o). */
function tapCount(q: i32, t0: i32, p: i32, d: i32, s: i32, o: i32): i32 {
  let n = 0;
  for (let t = t0; t >= 0 && (q - t * d) / s < o; t -= p) n++;
  return n;
}

/**
 * The sigmoid gradient dx = dy · (y · (1 − y)) over elements [16·lo, min(16·hi, size)) (float32), each of the three
 * operations rounded as tfjs's gradient (three kernels) rounds it.
 */
export function sigmoidGrad(lo: i32, hi: i32, dy: usize, y: usize, dx: usize, size: i32): void {
  const end = min(hi << 4, size);
  const one = f32x4.splat(1);
  let e = lo << 4;
  for (; e + 4 <= end; e += 4) {
    const p = <usize>e << 2;
    const yv = v128.load(y + p);
    v128.store(dx + p, f32x4.mul(v128.load(dy + p), f32x4.mul(yv, f32x4.sub(one, yv))));
  }
  for (; e < end; e++) {
    const p = <usize>e << 2;
    const yv = load<f32>(y + p);
    store<f32>(dx + p, load<f32>(dy + p) * (yv * (<f32>1 - yv)));
  }
}

/** The square's gradient dx = dy · (x · 2) over elements [16·lo, min(16·hi, size)) (float32), as tfjs rounds it. */
export function squareGrad(lo: i32, hi: i32, dy: usize, x: usize, dx: usize, size: i32): void {
  const end = min(hi << 4, size);
  const two = f32x4.splat(2);
  let e = lo << 4;
  for (; e + 4 <= end; e += 4) {
    const p = <usize>e << 2;
    v128.store(dx + p, f32x4.mul(v128.load(dy + p), f32x4.mul(v128.load(x + p), two)));
  }
  for (; e < end; e++) {
    const p = <usize>e << 2;
    store<f32>(dx + p, load<f32>(dy + p) * (load<f32>(x + p) * <f32>2));
  }
}

// @ts-ignore: decorator
@inline
function add4(at: usize, t0: v128, t1: v128, t2: v128, t3: v128): void {
  v128.store(at, f64x2.add(v128.load(at), f64x2.add(f64x2.add(lo2(t0), lo2(t1)), f64x2.add(lo2(t2), lo2(t3)))));
  v128.store(at, f64x2.add(v128.load(at, 16), f64x2.add(f64x2.add(hi2(t0), hi2(t1)), f64x2.add(hi2(t2), hi2(t3)))), 16);
}

// @ts-ignore: decorator
@inline
function add1(at: usize, t: v128): void {
  v128.store(at, f64x2.add(v128.load(at), lo2(t)));
  v128.store(at, f64x2.add(v128.load(at, 16), hi2(t)), 16);
}

/**
 * FusedBatchNorm's gradient (tfjs's formulas, mean and variance of rank 1) for the channels [4·lo, 4·hi) of x and
 * dy viewed as [rows, c] (c % 4 = 0), given the channel vectors mean, scale, r = 1/√(var + ε), m = r·r·r·(−0.5) and
 * nr = r·(−1) as tfjs computes them (c float32 each):
 *   dx = (dy·r)·scale;  per channel, summed over the rows: (nr · dy·scale), (m·(x − mean)) · dy·scale,
 *   dy · ((x − mean)·r), dy — the gradients of mean, variance, scale and offset.
 * Every product is rounded as tfjs's separate kernels round it, and each sum is added in float64 four rows at a
 * time, (t0 + t1) + (t2 + t3), then row by row — the order of the kit's Sum (`sumMiddle`) — into `acc` (4 × c
 * float64, zero on entry), then rounded once into oMean, oVar, oScale, oOffset (c float32 each). Bit for bit tfjs's
 * gradient, in one pass.
 */
export function batchNormGrad(
  lo: i32, hi: i32, x: usize, dy: usize,
  meanV: usize, scaleV: usize, rV: usize, mV: usize, nrV: usize,
  dx: usize, acc: usize, oMean: usize, oVar: usize, oScale: usize, oOffset: usize, rows: i32, c: i32,
): void {
  const row = <usize>c << 2;
  const accRow = <usize>c << 3;
  const j0 = <usize>lo << 4;
  const j1 = <usize>hi << 4;
  let k = 0;
  for (; k + 4 <= rows; k += 4) {
    const base = <usize>k * row;
    for (let j = j0; j < j1; j += 16) {
      const mean = v128.load(meanV + j);
      const scale = v128.load(scaleV + j);
      const r = v128.load(rV + j);
      const m = v128.load(mV + j);
      const nr = v128.load(nrV + j);
      const p0 = base + j, p1 = p0 + row, p2 = p1 + row, p3 = p2 + row;
      const d0 = v128.load(dy + p0), d1 = v128.load(dy + p1), d2 = v128.load(dy + p2), d3 = v128.load(dy + p3);
      const c0 = f32x4.sub(v128.load(x + p0), mean), c1 = f32x4.sub(v128.load(x + p1), mean);
      const c2 = f32x4.sub(v128.load(x + p2), mean), c3 = f32x4.sub(v128.load(x + p3), mean);
      v128.store(dx + p0, f32x4.mul(f32x4.mul(d0, r), scale));
      v128.store(dx + p1, f32x4.mul(f32x4.mul(d1, r), scale));
      v128.store(dx + p2, f32x4.mul(f32x4.mul(d2, r), scale));
      v128.store(dx + p3, f32x4.mul(f32x4.mul(d3, r), scale));
      const s0 = f32x4.mul(d0, scale), s1 = f32x4.mul(d1, scale), s2 = f32x4.mul(d2, scale), s3 = f32x4.mul(d3, scale);
      const a = acc + (j << 1);
      add4(a, f32x4.mul(nr, s0), f32x4.mul(nr, s1), f32x4.mul(nr, s2), f32x4.mul(nr, s3));
      add4(a + accRow, f32x4.mul(f32x4.mul(m, c0), s0), f32x4.mul(f32x4.mul(m, c1), s1), f32x4.mul(f32x4.mul(m, c2), s2), f32x4.mul(f32x4.mul(m, c3), s3));
      add4(a + 2 * accRow, f32x4.mul(d0, f32x4.mul(c0, r)), f32x4.mul(d1, f32x4.mul(c1, r)), f32x4.mul(d2, f32x4.mul(c2, r)), f32x4.mul(d3, f32x4.mul(c3, r)));
      add4(a + 3 * accRow, d0, d1, d2, d3);
    }
  }
  for (; k < rows; k++) {
    const base = <usize>k * row;
    for (let j = j0; j < j1; j += 16) {
      const mean = v128.load(meanV + j);
      const scale = v128.load(scaleV + j);
      const r = v128.load(rV + j);
      const m = v128.load(mV + j);
      const nr = v128.load(nrV + j);
      const p = base + j;
      const d = v128.load(dy + p);
      const cx = f32x4.sub(v128.load(x + p), mean);
      v128.store(dx + p, f32x4.mul(f32x4.mul(d, r), scale));
      const s = f32x4.mul(d, scale);
      const a = acc + (j << 1);
      add1(a, f32x4.mul(nr, s));
      add1(a + accRow, f32x4.mul(f32x4.mul(m, cx), s));
      add1(a + 2 * accRow, f32x4.mul(d, f32x4.mul(cx, r)));
      add1(a + 3 * accRow, d);
    }
  }
  for (let q: usize = 0; q < 4; q++) {
    const out = q === 0 ? oMean : q === 1 ? oVar : q === 2 ? oScale : oOffset;
    for (let j = j0; j < j1; j += 16) {
      const a = acc + q * accRow + (j << 1);
      const l = f32x4.demote_f64x2_zero(v128.load(a));
      const u = f32x4.demote_f64x2_zero(v128.load(a, 16));
      v128.store(out + j, i32x4.shuffle(l, u, 0, 1, 4, 5));
    }
  }
}

/**
 * FusedBatchNorm (forward) for the rows [lo, hi) of x viewed as [rows, c] (c % 4 = 0), channel vectors mean, scale,
 * offset and nf = √(variance + ε) (c float32 each):
 *   out = offset + ((x − mean) · scale) / nf
 * with (x − mean) · scale rounded to float32, then the division and the addition in float64 and one rounding — what
 * the wasm backend's own kernel (a scalar C++ loop) computes, bit for bit (found by comparing candidate roundings).
 */
export function batchNormRows(lo: i32, hi: i32, x: usize, mean: usize, scale: usize, offset: usize, nf: usize, out: usize, c: i32): void {
  const row = <usize>c << 2;
  for (let k = lo; k < hi; k++) {
    const base = <usize>k * row;
    for (let j: usize = 0; j < row; j += 16) {
      const t = f32x4.mul(f32x4.sub(v128.load(x + base + j), v128.load(mean + j)), v128.load(scale + j));
      const n = v128.load(nf + j);
      const o = v128.load(offset + j);
      const l = f64x2.add(lo2(o), f64x2.div(lo2(t), lo2(n)));
      const u = f64x2.add(hi2(o), f64x2.div(hi2(t), hi2(n)));
      v128.store(out + base + j, i32x4.shuffle(f32x4.demote_f64x2_zero(l), f32x4.demote_f64x2_zero(u), 0, 1, 4, 5));
    }
  }
}

// @ts-ignore: decorator
@inline
function momentTerm(kind: i32, xv: v128, m: v128, k: v128): v128 {
  if (kind === 0) return xv;
  const d = f32x4.sub(xv, m);
  if (kind === 1) return f32x4.mul(d, d);
  return f32x4.mul(k, f32x4.mul(d, f32x4.splat(2)));
}

/**
 * Per-channel sums over the rows of x viewed as [rows, c] (c % 4 = 0), for the channels [4·lo, 4·hi), of
 *   kind 0: x;   kind 1: (x − mean)²;   kind 2: k · ((x − mean) · 2)
 * each term rounded to float32 as tfjs's kernels round it (Sub, Square, Multiply), added in float64 four rows at a
 * time, (t0 + t1) + (t2 + t3), then row by row — the kit's Sum/Mean (`sumMiddle`) — into `acc` (c float64, zero on
 * entry), then out = acc · scale rounded to float32 (scale 1/rows makes it the kit's Mean). The moments of a batch
 * norm and a term of its gradient, in one pass each.
 */
export function channelSum(
  lo: i32, hi: i32, x: usize, mean: usize, k: usize, acc: usize, out: usize, rows: i32, c: i32, kind: i32, scale: f64,
): void {
  const row = <usize>c << 2;
  const j0 = <usize>lo << 4;
  const j1 = <usize>hi << 4;
  const zero = f32x4.splat(0);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const base = <usize>r * row;
    for (let j = j0; j < j1; j += 16) {
      const m = kind > 0 ? v128.load(mean + j) : zero;
      const kv = kind === 2 ? v128.load(k + j) : zero;
      const p = x + base + j;
      add4(acc + (j << 1),
        momentTerm(kind, v128.load(p), m, kv), momentTerm(kind, v128.load(p + row), m, kv),
        momentTerm(kind, v128.load(p + 2 * row), m, kv), momentTerm(kind, v128.load(p + 3 * row), m, kv));
    }
  }
  for (; r < rows; r++) {
    const base = <usize>r * row;
    for (let j = j0; j < j1; j += 16) {
      const m = kind > 0 ? v128.load(mean + j) : zero;
      const kv = kind === 2 ? v128.load(k + j) : zero;
      add1(acc + (j << 1), momentTerm(kind, v128.load(x + base + j), m, kv));
    }
  }
  const s = f64x2.splat(scale);
  for (let j = j0; j < j1; j += 16) {
    const a = acc + (j << 1);
    const l = f32x4.demote_f64x2_zero(f64x2.mul(v128.load(a), s));
    const u = f32x4.demote_f64x2_zero(f64x2.mul(v128.load(a, 16), s));
    v128.store(out + j, i32x4.shuffle(l, u, 0, 1, 4, 5));
  }
}

/**
 * The last step of a batch norm's input gradient, for the rows [lo, hi) of [rows, c]: dx = (dx + ds · ((x − mean) · 2))
 * + dm, with dx holding the batch-norm kernel's own term on entry — the three contributions tfjs's backward pass adds
 * into x's gradient, in its order (per-channel ds and dm).
 */
export function batchNormFinishDx(lo: i32, hi: i32, x: usize, mean: usize, ds: usize, dm: usize, dx: usize, c: i32): void {
  const row = <usize>c << 2;
  const two = f32x4.splat(2);
  for (let r = lo; r < hi; r++) {
    const base = <usize>r * row;
    for (let j: usize = 0; j < row; j += 16) {
      const p = base + j;
      const dd = f32x4.mul(v128.load(ds + j), f32x4.mul(f32x4.sub(v128.load(x + p), v128.load(mean + j)), two));
      v128.store(dx + p, f32x4.add(f32x4.add(v128.load(dx + p), dd), v128.load(dm + j)));
    }
  }
}

/**
 * Swish's gradient for tfjs-layers' x · sigmoid(x · 1), over elements [16·lo, min(16·hi, size)), from x and
 * s = sigmoid(x): dx = dy · s + (dy · x) · (s · (1 − s)), every operation rounded as tfjs's kernels round it and the
 * two terms added in the order its backward pass adds them.
 */
export function swishGrad(lo: i32, hi: i32, dy: usize, x: usize, s: usize, dx: usize, size: i32): void {
  const end = min(hi << 4, size);
  const one = f32x4.splat(1);
  let e = lo << 4;
  for (; e + 4 <= end; e += 4) {
    const p = <usize>e << 2;
    const d = v128.load(dy + p);
    const sv = v128.load(s + p);
    const t = f32x4.mul(f32x4.mul(d, v128.load(x + p)), f32x4.mul(sv, f32x4.sub(one, sv)));
    v128.store(dx + p, f32x4.add(f32x4.mul(d, sv), t));
  }
  for (; e < end; e++) {
    const p = <usize>e << 2;
    const d = load<f32>(dy + p);
    const sv = load<f32>(s + p);
    store<f32>(dx + p, d * sv + (d * load<f32>(x + p)) * (sv * (<f32>1 - sv)));
  }
}

/**
 * ReLU's gradient dx = dy · step(x) over elements [16·lo, min(16·hi, size)): step(x) is 1 where x > 0, NaN where x
 * is NaN (the wasm backend's Step kernel passes it through), else 0 — then one float32 product, as tfjs computes it.
 */
export function reluGrad(lo: i32, hi: i32, dy: usize, x: usize, dx: usize, size: i32): void {
  const end = min(hi << 4, size);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  let e = lo << 4;
  for (; e + 4 <= end; e += 4) {
    const p = <usize>e << 2;
    const xv = v128.load(x + p);
    const step = v128.bitselect(xv, v128.bitselect(one, zero, f32x4.gt(xv, zero)), f32x4.ne(xv, xv));
    v128.store(dx + p, f32x4.mul(v128.load(dy + p), step));
  }
  for (; e < end; e++) {
    const p = <usize>e << 2;
    const xv = load<f32>(x + p);
    const step: f32 = isNaN(xv) ? xv : xv > 0 ? 1 : 0;
    store<f32>(dx + p, load<f32>(dy + p) * step);
  }
}

/**
 * Conv2DBackpropInput at any stride (a transposed convolution), NHWC float32, for the rows r = b·h + y of dx in
 * [lo, hi):
 *   dx[b, y, x, c] = Σ_{i desc} Σ_{j desc} Σ_o dyp[b, (y + pt − i) / sh, (x + pl − j) / sw + padL, o] · wt[i, j, o, c]
 * over the taps whose quotients are whole and (for rows) inside dy, in the order XNNPACK's convolution of the
 * zero-dilated dy by the flipped filter adds them — the formulation this replaces, bit for bit (the zeros it adds
 * change nothing). dyp is dy with padL zero pixels left of each row and room on the right so that every column read
 * lies inside; wt is the filter as [fh, fw, co, ci] (ci % 4 = 0). Register tile: 4 pixels of one column phase
 * (x ≡ φ mod sw: they share their taps and read 4 neighbouring dy pixels) × 8 channels of dx.
 */
export function conv2dTransposeRows(
  lo: i32, hi: i32, dyp: usize, wt: usize, out: usize,
  h: i32, w: i32, ci: i32, oh: i32, owp: i32, co: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, pt: i32, pl: i32, padL: i32,
): void {
  const dyPix = <usize>co << 2;
  const oPix = <usize>ci << 2;
  const wTap = <usize>co * oPix; // bytes of wt per tap
  for (let r = lo; r < hi; r++) {
    const b = r / h;
    const y = r % h;
    const outRow = out + <usize>r * <usize>w * oPix;
    for (let phase = 0; phase < sw && phase < w; phase++) {
      const count = (w - phase + sw - 1) / sw; // pixels of this phase
      const group = count >= 4 ? 4 : 1;
      for (let g0 = 0; g0 < count; g0 += group) {
        const g = min(g0, count - group);
        const x = phase + g * sw;
        const q1 = group === 4 ? dyPix : 0; // neighbouring dy pixels of the group
        const qo = group === 4 ? <usize>sw * oPix : 0; // the group's pixels in dx
        for (let c0 = 0; c0 < ci; c0 += 8) {
          const cA = <usize>c0 << 2;
          const cB = <usize>min(c0 + 4, ci - 4) << 2;
          let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
          let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
          let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
          let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
          for (let i = fh - 1; i >= 0; i--) {
            const ty = y + pt - i;
            if (ty < 0 || ty % sh !== 0 || ty / sh >= oh) continue;
            const dyRow = dyp + <usize>((b * oh + ty / sh) * owp) * dyPix;
            for (let j = fw - 1; j >= 0; j--) {
              const tx = x + pl - j;
              if ((tx % sw + sw) % sw !== 0) continue;
              let dp = dyRow + <usize>((tx - (tx % sw + sw) % sw) / sw + padL) * dyPix;
              let wp0 = wt + <usize>(i * fw + j) * wTap;
              for (let o = 0; o < co; o++) {
                const wA = v128.load(wp0 + cA);
                const wB = v128.load(wp0 + cB);
                const s0 = v128.load32_splat(dp);
                const s1 = v128.load32_splat(dp + q1);
                const s2 = v128.load32_splat(dp + 2 * q1);
                const s3 = v128.load32_splat(dp + 3 * q1);
                a0 = f32x4.add(a0, f32x4.mul(s0, wA));
                b0 = f32x4.add(b0, f32x4.mul(s0, wB));
                a1 = f32x4.add(a1, f32x4.mul(s1, wA));
                b1 = f32x4.add(b1, f32x4.mul(s1, wB));
                a2 = f32x4.add(a2, f32x4.mul(s2, wA));
                b2 = f32x4.add(b2, f32x4.mul(s2, wB));
                a3 = f32x4.add(a3, f32x4.mul(s3, wA));
                b3 = f32x4.add(b3, f32x4.mul(s3, wB));
                dp += 4;
                wp0 += oPix;
              }
            }
          }
          const p0 = outRow + <usize>x * oPix;
          v128.store(p0 + cB, b0);
          v128.store(p0 + cA, a0);
          v128.store(p0 + qo + cB, b1);
          v128.store(p0 + qo + cA, a1);
          v128.store(p0 + 2 * qo + cB, b2);
          v128.store(p0 + 2 * qo + cA, a2);
          v128.store(p0 + 3 * qo + cB, b3);
          v128.store(p0 + 3 * qo + cA, a3);
        }
      }
    }
  }
}

/**
 * A pointwise convolution's filter gradient (1×1, stride 1, no padding), x [pixels, ci] and dy [pixels, co]:
 *   out[c, o] = Σ_p x[p, c] · dy[p, o]
 * summed over the pixels in order from +0, every product and sum rounded to float32 — the order of XNNPACK's GEMM,
 * which the formulations it replaces ran on. Four input channels per vector (dy[p, o] splatted), the rest one by one;
 * any ci and co. Small problems only (one thread: the squeeze-and-excitation convolutions of an MBConv block).
 */
export function pointwiseFilterGrad(x: usize, dy: usize, out: usize, pixels: i32, ci: i32, co: i32): void {
  const xr = <usize>ci << 2;
  const dr = <usize>co << 2;
  const c4 = ci & ~3;
  for (let o = 0; o < co; o++) {
    const dyo = dy + (<usize>o << 2);
    let c = 0;
    for (; c < c4; c += 4) {
      let acc = f32x4.splat(0);
      let xp = x + (<usize>c << 2);
      let dp = dyo;
      for (let p = 0; p < pixels; p++) {
        acc = f32x4.add(acc, f32x4.mul(v128.load(xp), f32x4.splat(load<f32>(dp))));
        xp += xr;
        dp += dr;
      }
      const at = out + ((<usize>c * <usize>co + <usize>o) << 2);
      store<f32>(at, f32x4.extract_lane(acc, 0));
      store<f32>(at + dr, f32x4.extract_lane(acc, 1));
      store<f32>(at + 2 * dr, f32x4.extract_lane(acc, 2));
      store<f32>(at + 3 * dr, f32x4.extract_lane(acc, 3));
    }
    for (; c < ci; c++) {
      let a: f32 = 0;
      let xp = x + (<usize>c << 2);
      let dp = dyo;
      for (let p = 0; p < pixels; p++) {
        a = a + load<f32>(xp) * load<f32>(dp);
        xp += xr;
        dp += dr;
      }
      store<f32>(out + ((<usize>c * <usize>co + <usize>o) << 2), a);
    }
  }
}

/**
 * A pointwise convolution's input gradient (1×1, stride 1, no padding), dy [pixels, co] and the filter w [ci, co]:
 *   dx[p, c] = Σ_o dy[p, o] · w[c, o]
 * summed over the output channels in order from +0, every product and sum rounded to float32 (XNNPACK's GEMM
 * order). w is first transposed into `wt` [co, ci] (scratch), so four input channels are one vector; the rest one by
 * one; any ci and co. Small problems only (one thread).
 */
export function pointwiseInputGrad(dy: usize, w: usize, wt: usize, dx: usize, pixels: i32, ci: i32, co: i32): void {
  for (let c = 0; c < ci; c++) {
    for (let o = 0; o < co; o++) store<f32>(wt + ((<usize>o * <usize>ci + <usize>c) << 2), load<f32>(w + ((<usize>c * <usize>co + <usize>o) << 2)));
  }
  const wr = <usize>ci << 2;
  const c4 = ci & ~3;
  for (let p = 0; p < pixels; p++) {
    const dp = dy + ((<usize>p * <usize>co) << 2);
    const xp = dx + ((<usize>p * <usize>ci) << 2);
    let c = 0;
    for (; c < c4; c += 4) {
      let acc = f32x4.splat(0);
      let wp = wt + (<usize>c << 2);
      for (let o = 0; o < co; o++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(dp + (<usize>o << 2))), v128.load(wp)));
        wp += wr;
      }
      v128.store(xp + (<usize>c << 2), acc);
    }
    for (; c < ci; c++) {
      let a: f32 = 0;
      let wp = wt + (<usize>c << 2);
      for (let o = 0; o < co; o++) {
        a = a + load<f32>(dp + (<usize>o << 2)) * load<f32>(wp);
        wp += wr;
      }
      store<f32>(xp + (<usize>c << 2), a);
    }
  }
}

/**
 * One Adam step (tfjs's AdamOptimizer.applyGradients, per variable) over elements [16·lo, min(16·hi, size)):
 *   m' = m·β1 + g·(1 − β1);  v' = v·β2 + (g·g)·(1 − β2)
 *   value' = ((m' / (1 − β1ᵗ)) / (√(v' / (1 − β2ᵗ)) + ε)) · (−lr) + value
 * with every constant the float32 scalar tfjs makes of it and every operation rounded to float32 in that order,
 * as tfjs's fourteen kernels round them. Writes value', m', v' to their own outputs.
 */
export function adamUpdate(
  lo: i32, hi: i32, value: usize, m: usize, v: usize, g: usize, outValue: usize, outM: usize, outV: usize, size: i32,
  b1: f32, ob1: f32, b2: f32, ob2: f32, omb1: f32, omb2: f32, eps: f32, nlr: f32,
): void {
  const end = min(hi << 4, size);
  const B1 = f32x4.splat(b1), OB1 = f32x4.splat(ob1), B2 = f32x4.splat(b2), OB2 = f32x4.splat(ob2);
  const OMB1 = f32x4.splat(omb1), OMB2 = f32x4.splat(omb2), EPS = f32x4.splat(eps), NLR = f32x4.splat(nlr);
  let e = lo << 4;
  for (; e + 4 <= end; e += 4) {
    const p = <usize>e << 2;
    const gv = v128.load(g + p);
    const nm = f32x4.add(f32x4.mul(v128.load(m + p), B1), f32x4.mul(gv, OB1));
    const nv = f32x4.add(f32x4.mul(v128.load(v + p), B2), f32x4.mul(f32x4.mul(gv, gv), OB2));
    const den = f32x4.add(f32x4.sqrt(f32x4.div(nv, OMB2)), EPS);
    v128.store(outValue + p, f32x4.add(f32x4.mul(f32x4.div(f32x4.div(nm, OMB1), den), NLR), v128.load(value + p)));
    v128.store(outM + p, nm);
    v128.store(outV + p, nv);
  }
  for (; e < end; e++) {
    const p = <usize>e << 2;
    const gv = load<f32>(g + p);
    const nm = load<f32>(m + p) * b1 + gv * ob1;
    const nv = load<f32>(v + p) * b2 + (gv * gv) * ob2;
    const den = sqrt<f32>(nv / omb2) + eps;
    store<f32>(outValue + p, ((nm / omb1) / den) * nlr + load<f32>(value + p));
    store<f32>(outM + p, nm);
    store<f32>(outV + p, nv);
  }
}

/** One SGD step (tfjs's SGDOptimizer): value' = c·g + value with c = −lr, each operation rounded to float32. */
export function sgdUpdate(lo: i32, hi: i32, value: usize, g: usize, out: usize, size: i32, c: f32): void {
  const end = min(hi << 4, size);
  const C = f32x4.splat(c);
  let e = lo << 4;
  for (; e + 4 <= end; e += 4) {
    const p = <usize>e << 2;
    v128.store(out + p, f32x4.add(f32x4.mul(C, v128.load(g + p)), v128.load(value + p)));
  }
  for (; e < end; e++) {
    const p = <usize>e << 2;
    store<f32>(out + p, c * load<f32>(g + p) + load<f32>(value + p));
  }
}

/**
 * Conv2DBackpropFilter at any stride (dilation 1, NHWC, float32, co % 4 = 0) for the taps t = i·fw + j in [lo, hi):
 *   out[i, j, c, o] = Σ_{b, oy, ox} x̃[b, oy·sh + i − pt, ox·sw + j − pl, c] · dy[b, oy, ox, o]
 * summed over all n·oh·ow output pixels in order from +0, x̃ being x inside it and 0 in the padding — the padding's
 * zero products are added too (they can turn a sum of −0 into +0) — every product and sum rounded to float32: the
 * order of the im2col matrix times dy on XNNPACK's GEMM that it replaces, bit for bit. Register tile: 4 input
 * channels × 8 output channels of one tap (edge tiles repeat the last channel or the last 4 outputs).
 */
export function conv2dFilterGradStrided(
  lo: i32, hi: i32,
  x: usize, dy: usize, out: usize,
  n: i32, h: i32, w: i32, ci: i32, oh: i32, ow: i32, co: i32,
  fw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const xPix = <usize>ci << 2;
  const dyPix = <usize>co << 2;
  const zero = f32x4.splat(0);
  for (let t = lo; t < hi; t++) {
    const i = t / fw;
    const j = t % fw;
    // Output columns whose tap column lies inside x: [xa, xb).
    let xa = 0;
    while (xa < ow && xa * sw + j - pl < 0) xa++;
    let xb = ow;
    while (xb > xa && (xb - 1) * sw + j - pl >= w) xb--;
    for (let c0 = 0; c0 < ci; c0 += 4) {
      const c1 = <usize>min(c0 + 1, ci - 1) << 2;
      const c2 = <usize>min(c0 + 2, ci - 1) << 2;
      const c3 = <usize>min(c0 + 3, ci - 1) << 2;
      const cA = <usize>c0 << 2;
      for (let o0 = 0; o0 < co; o0 += 8) {
        const oA = <usize>o0 << 2;
        const oB = <usize>min(o0 + 4, co - 4) << 2;
        let a0 = zero, b0 = zero, a1 = zero, b1 = zero, a2 = zero, b2 = zero, a3 = zero, b3 = zero;
        let dp = dy;
        for (let b = 0; b < n; b++) {
          for (let oy = 0; oy < oh; oy++) {
            const y = oy * sh + i - pt;
            const inside = y >= 0 && y < h;
            const lo2x = inside ? xa : ow; // all columns are padding on a row outside x
            const hi2x = inside ? xb : ow;
            const step = <usize>sw * xPix;
            // Three runs of columns: padding, inside x, padding (a branch per run, not per pixel).
            let ox = 0;
            for (let run = 0; run < 3; run++) {
              const end = run === 0 ? lo2x : run === 1 ? hi2x : ow;
              if (run === 1) {
                let xp = x + ((<usize>(b * h + y) * <usize>w + <usize>(ox * sw + j - pl)) * xPix);
                for (; ox < end; ox++) {
                  const dA = v128.load(dp + oA), dB = v128.load(dp + oB);
                  const s0 = v128.load32_splat(xp + cA);
                  const s1 = v128.load32_splat(xp + c1);
                  const s2 = v128.load32_splat(xp + c2);
                  const s3 = v128.load32_splat(xp + c3);
                  a0 = f32x4.add(a0, f32x4.mul(s0, dA)); b0 = f32x4.add(b0, f32x4.mul(s0, dB));
                  a1 = f32x4.add(a1, f32x4.mul(s1, dA)); b1 = f32x4.add(b1, f32x4.mul(s1, dB));
                  a2 = f32x4.add(a2, f32x4.mul(s2, dA)); b2 = f32x4.add(b2, f32x4.mul(s2, dB));
                  a3 = f32x4.add(a3, f32x4.mul(s3, dA)); b3 = f32x4.add(b3, f32x4.mul(s3, dB));
                  xp += step;
                  dp += dyPix;
                }
                continue;
              }
              for (; ox < end; ox++) {
                const dA = v128.load(dp + oA), dB = v128.load(dp + oB);
                const z0 = f32x4.mul(zero, dA), z1 = f32x4.mul(zero, dB);
                a0 = f32x4.add(a0, z0); b0 = f32x4.add(b0, z1);
                a1 = f32x4.add(a1, z0); b1 = f32x4.add(b1, z1);
                a2 = f32x4.add(a2, z0); b2 = f32x4.add(b2, z1);
                a3 = f32x4.add(a3, z0); b3 = f32x4.add(b3, z1);
                dp += dyPix;
              }
            }
          }
        }
        const row = <usize>t * xPix * <usize>co; // bytes to tap t's rows of out
        const base = out + row;
        // Repeated rows and columns hold equal sums, so the order of these stores does not matter.
        v128.store(base + c3 * <usize>co + oB, b3); v128.store(base + c3 * <usize>co + oA, a3);
        v128.store(base + c2 * <usize>co + oB, b2); v128.store(base + c2 * <usize>co + oA, a2);
        v128.store(base + c1 * <usize>co + oB, b1); v128.store(base + c1 * <usize>co + oA, a1);
        v128.store(base + cA * <usize>co + oB, b0); v128.store(base + cA * <usize>co + oA, a0);
      }
    }
  }
}

/**
 * out[b, p, k] = x[b, p, k] · s[b, k] for the images b in [lo, hi) of x viewed as [n, pixels, c] (c % 4 = 0) and
 * s as [n, c]: a Multiply broadcasting a per-image channel vector (the squeeze-and-excitation gate, forward and in
 * its gradient), one float32 product per element as the backend's broadcasting kernel computes it.
 */
export function channelScaleRows(lo: i32, hi: i32, x: usize, s: usize, out: usize, pixels: i32, c: i32): void {
  const px = <usize>c << 2;
  for (let b = lo; b < hi; b++) {
    const sv = s + <usize>b * px;
    const base = <usize>b * <usize>pixels * px;
    for (let p = 0; p < pixels; p++) {
      const at = base + <usize>p * px;
      for (let k: usize = 0; k < px; k += 16) v128.store(out + at + k, f32x4.mul(v128.load(x + at + k), v128.load(sv + k)));
    }
  }
}
