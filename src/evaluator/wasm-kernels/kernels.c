/*
 * Training and forward kernels for the tfjs wasm backend (robust-nas): convolution gradients
 * (dense, 1x1, depthwise), forward 1x1 (a matrix product with bias) and depthwise convolutions,
 * max-pool forward with argmax and its gradient, ReLU gradient, training BatchNorm forward and
 * backward, reductions over leading axes, and column copies for concat/split on the last axis.
 *
 * Compiled to a tiny standalone wasm32+SIMD module that IMPORTS the tfjs wasm backend's memory, so
 * every pointer below is a byte offset into the tensors tfjs already holds: no copies. The module
 * has no data segments and uses no stack (no address-taken locals), so it never writes outside
 * the buffers it is given. Rebuild with scripts/build-wasm-kernels.sh (see that file).
 *
 * Two builds of this one source: plain 128-bit SIMD, and relaxed SIMD (-mrelaxed-simd), where
 * MADD below is f32x4.relaxed_madd: one fused multiply-add instruction where the CPU has FMA
 * (x86-64 FMA3, ARM64), so products are not rounded before the addition and results differ from
 * the plain build in the last bits. Only the convolution and matrix-product kernels use MADD;
 * BatchNorm, pooling, reductions and copies are the same instructions in both builds.
 *
 * Layouts are tfjs's: NHWC activations, HWIO conv filters [KH,KW,Ci,Co], depthwise filters
 * [KH,KW,C,M] (output channel c*M+m). Geometry (stride s, dilation d, top/left padding p) is as in
 * tfjs's convInfo: input row ih = oh*s - p + kh*d.
 */
#include <wasm_simd128.h>

typedef unsigned int u32;

#define EXPORT(name) __attribute__((export_name(#name)))

/* relu(v) as tfjs computes it (max(v, 0) keeping -0 and NaN), when the constant `relu` is set. */
static inline float relu1(float v) { return v < 0.0f ? 0.0f : v; }
#define RX(v) (relu ? relu1(v) : (v))
#define RXV(v) (relu ? wasm_f32x4_pmax((v), zero4) : (v))
/* Stores of an output element, zeroed where mask (same layout as y) is not > 0. */
#define STM(p, v) \
  wasm_v128_store((p), mask ? wasm_v128_and((v), wasm_f32x4_gt(wasm_v128_load(mask + ((p) - y)), zero4)) : (v))
#define SSM(p, v) (*(p) = (mask && !(mask[(p) - y] > 0.0f)) ? 0.0f : (v))

/* c + a*b per lane: fused (one rounding) in the relaxed build where the CPU has FMA. */
#ifdef __wasm_relaxed_simd__
/* clang 16's wasm_simd128.h has no wasm_f32x4_relaxed_madd yet: the builtin it wraps (a*b + c). */
#define MADD(a, b, c) \
  ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add(c, wasm_f32x4_mul(a, b))
#endif

static inline void zero(float *p, u32 n) {
  u32 i = 0;
  v128_t z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, z);
  for (; i < n; i++) p[i] = 0.0f;
}

/* Ceil division for possibly negative numerators, positive divisors. */
static inline int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/*
 * dx[n,ih,iw,c] = sum over taps and m of dy[n,oh,ow,c*M+m] * w[kh,kw,c,m], where ih = oh*sh - pt + kh*dh.
 * Gather form: each dx pixel is written once.
 */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const float *dy, const float *w, float *dx, int N, int H, int W, int C,
                              int M, int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw,
                              int pt, int pl) {
  const int CM = C * M;
  if (M == 1 && (sh > 1 || sw > 1)) {
    /* Strided, multiplier 1: scatter form, each dy pixel added into the dx pixels its taps read,
       row by row with the valid columns computed once per tap (no per-pixel index arithmetic). */
    const int c4 = C & ~3;
    zero(dx, (u32)((long)N * H * W * C));
    for (int n = 0; n < N; n++) {
      for (int oh = 0; oh < OH; oh++) {
        const float *dyrow = dy + (((long)n * OH + oh) * OW) * C;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          float *dxrow = dx + (((long)n * H + ih) * W) * C;
          for (int kw = 0; kw < KW; kw++) {
            const int off = kw * dw - pl;
            const int ow0 = off >= 0 ? 0 : ceil_div(-off, sw);
            int ow1 = W - off <= 0 ? 0 : ceil_div(W - off, sw);
            if (ow1 > OW) ow1 = OW;
            const float *wp = w + ((long)kh * KW + kw) * C;
            int c = 0;
            for (; c < c4; c += 4) {
              const v128_t f = wasm_v128_load(wp + c);
              for (int ow = ow0; ow < ow1; ow++) {
                float *d = dxrow + (long)(ow * sw + off) * C + c;
                wasm_v128_store(d, MADD(wasm_v128_load(dyrow + (long)ow * C + c), f, wasm_v128_load(d)));
              }
            }
            for (; c < C; c++)
              for (int ow = ow0; ow < ow1; ow++) dxrow[(long)(ow * sw + off) * C + c] += dyrow[(long)ow * C + c] * wp[c];
          }
        }
      }
    }
    return;
  }
  for (int n = 0; n < N; n++) {
    const float *dyn = dy + (long)n * OH * OW * CM;
    for (int ih = 0; ih < H; ih++) {
      for (int iw = 0; iw < W; iw++) {
        float *out = dx + (((long)n * H + ih) * W + iw) * C;
        zero(out, C);
        for (int kh = 0; kh < KH; kh++) {
          int th = ih + pt - kh * dh; /* = oh*sh */
          if (th < 0 || th % sh) continue;
          int oh = th / sh;
          if (oh >= OH) continue;
          for (int kw = 0; kw < KW; kw++) {
            int tw = iw + pl - kw * dw;
            if (tw < 0 || tw % sw) continue;
            int ow = tw / sw;
            if (ow >= OW) continue;
            const float *g = dyn + ((long)oh * OW + ow) * CM;
            const float *f = w + ((long)kh * KW + kw) * CM;
            if (M == 1) {
              int c = 0;
              for (; c + 4 <= C; c += 4) {
                v128_t acc = wasm_v128_load(out + c);
                acc = MADD(wasm_v128_load(g + c), wasm_v128_load(f + c), acc);
                wasm_v128_store(out + c, acc);
              }
              for (; c < C; c++) out[c] += g[c] * f[c];
            } else {
              for (int c = 0; c < C; c++) {
                float s = 0.0f;
                for (int m = 0; m < M; m++) s += g[c * M + m] * f[c * M + m];
                out[c] += s;
              }
            }
          }
        }
      }
    }
  }
}

/*
 * dW[kh,kw,c,m] = sum over n,oh,ow of x[n,ih,iw,c] * dy[n,oh,ow,c*M+m].
 * The filter gradient (KH*KW*C*M floats) stays in L1 while rows of x and dy stream through.
 */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const float *x, const float *dy, float *dW, int N, int H, int W, int C,
                               int M, int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw,
                               int pt, int pl) {
  const int CM = C * M;
  zero(dW, (u32)(KH * KW * CM));
  /* 3x3, multiplier 1: interior columns of rows with all three filter rows inside the input. */
  const int fast3 = KH == 3 && KW == 3 && M == 1;
  int owA = ceil_div(pl, sw);
  int lastStart = W - 1 - (KW - 1) * dw + pl;
  int owB = lastStart < 0 ? 0 : lastStart / sw + 1;
  if (owA > OW) owA = OW;
  if (owB > OW) owB = OW;
  if (owB < owA) owB = owA;
  const int c4 = C & ~3;
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      const float *dyrow = dy + (((long)n * OH + oh) * OW) * CM;
      const int ih0 = oh * sh - pt;
      if (fast3 && ih0 >= 0 && ih0 + 2 * dh < H && owB > owA) {
        const float *x0 = x + (((long)n * H + ih0) * W) * C;
        const float *x1 = x0 + (long)dh * W * C, *x2 = x1 + (long)dh * W * C;
        for (int c = 0; c < c4; c += 4) {
          float *a = dW + c;
          v128_t a00 = wasm_f32x4_splat(0.0f), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
          v128_t a20 = a00, a21 = a00, a22 = a00;
          for (int ow = owA; ow < owB; ow++) {
            const v128_t g = wasm_v128_load(dyrow + (long)ow * C + c);
            const long o = (long)(ow * sw - pl) * C + c, t1 = o + (long)dw * C, t2 = o + 2L * dw * C;
            a00 = MADD(wasm_v128_load(x0 + o), g, a00);
            a01 = MADD(wasm_v128_load(x0 + t1), g, a01);
            a02 = MADD(wasm_v128_load(x0 + t2), g, a02);
            a10 = MADD(wasm_v128_load(x1 + o), g, a10);
            a11 = MADD(wasm_v128_load(x1 + t1), g, a11);
            a12 = MADD(wasm_v128_load(x1 + t2), g, a12);
            a20 = MADD(wasm_v128_load(x2 + o), g, a20);
            a21 = MADD(wasm_v128_load(x2 + t1), g, a21);
            a22 = MADD(wasm_v128_load(x2 + t2), g, a22);
          }
#define DWF_ACC(i, v) wasm_v128_store(a + (i) * C, wasm_f32x4_add(wasm_v128_load(a + (i) * C), v))
          DWF_ACC(0, a00); DWF_ACC(1, a01); DWF_ACC(2, a02);
          DWF_ACC(3, a10); DWF_ACC(4, a11); DWF_ACC(5, a12);
          DWF_ACC(6, a20); DWF_ACC(7, a21); DWF_ACC(8, a22);
#undef DWF_ACC
        }
        /* channels beyond the last multiple of 4, and the border columns, tap by tap */
        for (int kh = 0; kh < 3; kh++) {
          const float *xrow = x + (((long)n * H + ih0 + kh * dh) * W) * C;
          for (int kw = 0; kw < 3; kw++) {
            float *acc = dW + ((long)kh * 3 + kw) * C;
            const int off = kw * dw - pl;
            for (int c = c4; c < C; c++)
              for (int ow = owA; ow < owB; ow++)
                acc[c] += xrow[(long)(ow * sw + off) * C + c] * dyrow[(long)ow * C + c];
            for (int ow = 0; ow < OW; ow++) {
              if (ow == owA) ow = owB;
              if (ow >= OW) break;
              const int iw = ow * sw + off;
              if (iw < 0 || iw >= W) continue;
              const float *xp = xrow + (long)iw * C;
              const float *g = dyrow + (long)ow * C;
              int c = 0;
              for (; c < c4; c += 4)
                wasm_v128_store(acc + c, MADD(wasm_v128_load(xp + c), wasm_v128_load(g + c), wasm_v128_load(acc + c)));
              for (; c < C; c++) acc[c] += xp[c] * g[c];
            }
          }
        }
        continue;
      }
      for (int kh = 0; kh < KH; kh++) {
        int ih = oh * sh - pt + kh * dh;
        if (ih < 0 || ih >= H) continue;
        const float *xrow = x + (((long)n * H + ih) * W) * C;
        for (int kw = 0; kw < KW; kw++) {
          float *acc = dW + ((long)kh * KW + kw) * CM;
          /* valid ow: 0 <= ow*sw - pl + kw*dw < W */
          int off = kw * dw - pl;
          int ow0 = off >= 0 ? 0 : ceil_div(-off, sw);
          int ow1 = W - off <= 0 ? 0 : ceil_div(W - off, sw);
          if (ow1 > OW) ow1 = OW;
          if (M == 1) {
            int c = 0;
            for (; c + 4 <= C; c += 4) {
              v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
              int ow = ow0;
              for (; ow + 2 <= ow1; ow += 2) {
                const float *xp0 = xrow + (long)(ow * sw + off) * C + c;
                const float *xp1 = xrow + (long)((ow + 1) * sw + off) * C + c;
                a0 = MADD(wasm_v128_load(xp0), wasm_v128_load(dyrow + (long)ow * CM + c), a0);
                a1 = MADD(wasm_v128_load(xp1), wasm_v128_load(dyrow + (long)(ow + 1) * CM + c), a1);
              }
              for (; ow < ow1; ow++) {
                const float *xp = xrow + (long)(ow * sw + off) * C + c;
                a0 = MADD(wasm_v128_load(xp), wasm_v128_load(dyrow + (long)ow * CM + c), a0);
              }
              wasm_v128_store(acc + c, wasm_f32x4_add(wasm_v128_load(acc + c), wasm_f32x4_add(a0, a1)));
            }
            for (; c < C; c++) {
              float s = 0.0f;
              for (int ow = ow0; ow < ow1; ow++) s += xrow[(long)(ow * sw + off) * C + c] * dyrow[(long)ow * CM + c];
              acc[c] += s;
            }
          } else {
            for (int ow = ow0; ow < ow1; ow++) {
              const float *xp = xrow + (long)(ow * sw + off) * C;
              const float *g = dyrow + (long)ow * CM;
              for (int c = 0; c < C; c++)
                for (int m = 0; m < M; m++) acc[c * M + m] += xp[c] * g[c * M + m];
            }
          }
        }
      }
    }
  }
}

/*
 * dW[kh,kw,ci,co] = sum over n,oh,ow of x[n,ih,iw,ci] * dy[n,oh,ow,co]  (regular conv filter grad).
 * Per tap, an outer-product accumulation over output pixels, four pixels at a time so each dW
 * vector is loaded and stored once per four multiply-adds.
 */
EXPORT(conv_backprop_filter)
void conv_backprop_filter(const float *x, const float *dy, float *dW, int N, int H, int W, int Ci,
                          int Co, int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw,
                          int pt, int pl) {
  zero(dW, (u32)(KH * KW * Ci * Co));
  const int co4 = Co & ~3;
  for (int kh = 0; kh < KH; kh++) {
    for (int kw = 0; kw < KW; kw++) {
      float *acc = dW + ((long)kh * KW + kw) * Ci * Co;
      int off = kw * dw - pl;
      int ow0 = off >= 0 ? 0 : ceil_div(-off, sw);
      int ow1 = W - off <= 0 ? 0 : ceil_div(W - off, sw);
      if (ow1 > OW) ow1 = OW;
      for (int n = 0; n < N; n++) {
        for (int oh = 0; oh < OH; oh++) {
          int ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          const float *xrow = x + (((long)n * H + ih) * W) * Ci;
          const float *dyrow = dy + (((long)n * OH + oh) * OW) * Co;
          int ow = ow0;
          for (; ow + 4 <= ow1; ow += 4) {
            const float *x0 = xrow + (long)(ow * sw + off) * Ci;
            const float *x1 = x0 + (long)sw * Ci, *x2 = x1 + (long)sw * Ci, *x3 = x2 + (long)sw * Ci;
            const float *g0 = dyrow + (long)ow * Co, *g1 = g0 + Co, *g2 = g1 + Co, *g3 = g2 + Co;
            for (int ci = 0; ci < Ci; ci++) {
              float *a = acc + (long)ci * Co;
              v128_t s0 = wasm_f32x4_splat(x0[ci]), s1 = wasm_f32x4_splat(x1[ci]);
              v128_t s2 = wasm_f32x4_splat(x2[ci]), s3 = wasm_f32x4_splat(x3[ci]);
              int co = 0;
              for (; co < co4; co += 4) {
                v128_t t = wasm_v128_load(a + co);
                t = MADD(s0, wasm_v128_load(g0 + co), t);
                t = MADD(s1, wasm_v128_load(g1 + co), t);
                t = MADD(s2, wasm_v128_load(g2 + co), t);
                t = MADD(s3, wasm_v128_load(g3 + co), t);
                wasm_v128_store(a + co, t);
              }
              for (; co < Co; co++)
                a[co] += x0[ci] * g0[co] + x1[ci] * g1[co] + x2[ci] * g2[co] + x3[ci] * g3[co];
            }
          }
          for (; ow < ow1; ow++) {
            const float *x0 = xrow + (long)(ow * sw + off) * Ci;
            const float *g0 = dyrow + (long)ow * Co;
            for (int ci = 0; ci < Ci; ci++) {
              float *a = acc + (long)ci * Co;
              v128_t s0 = wasm_f32x4_splat(x0[ci]);
              int co = 0;
              for (; co < co4; co += 4)
                wasm_v128_store(a + co, MADD(s0, wasm_v128_load(g0 + co), wasm_v128_load(a + co)));
              for (; co < Co; co++) a[co] += x0[ci] * g0[co];
            }
          }
        }
      }
    }
  }
}

/*
 * dx[n,ih,iw,ci] = sum over taps of sum_co dy[n,oh,ow,co] * w[kh,kw,ci,co].
 * wT is the filter transposed to [KH,KW,Co,Ci] (done by the caller) so the inner loop runs over
 * contiguous ci. Gather form, 8 input channels per register block.
 */
EXPORT(conv_backprop_input)
void conv_backprop_input(const float *dy, const float *wT, float *dx, int N, int H, int W, int Ci,
                         int Co, int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw,
                         int pt, int pl) {
  const int ci8 = Ci & ~7;
  const int ci4 = Ci & ~3;
  for (int n = 0; n < N; n++) {
    for (int ih = 0; ih < H; ih++) {
      for (int iw = 0; iw < W; iw++) {
        float *out = dx + (((long)n * H + ih) * W + iw) * Ci;
        zero(out, Ci);
        for (int kh = 0; kh < KH; kh++) {
          int th = ih + pt - kh * dh;
          if (th < 0 || th % sh) continue;
          int oh = th / sh;
          if (oh >= OH) continue;
          for (int kw = 0; kw < KW; kw++) {
            int tw = iw + pl - kw * dw;
            if (tw < 0 || tw % sw) continue;
            int ow = tw / sw;
            if (ow >= OW) continue;
            const float *g = dy + (((long)n * OH + oh) * OW + ow) * Co;
            const float *f = wT + ((long)kh * KW + kw) * Co * Ci;
            int ci = 0;
            for (; ci < ci8; ci += 8) {
              v128_t a0 = wasm_v128_load(out + ci), a1 = wasm_v128_load(out + ci + 4);
              for (int co = 0; co < Co; co++) {
                v128_t s = wasm_f32x4_splat(g[co]);
                const float *fr = f + (long)co * Ci + ci;
                a0 = MADD(s, wasm_v128_load(fr), a0);
                a1 = MADD(s, wasm_v128_load(fr + 4), a1);
              }
              wasm_v128_store(out + ci, a0);
              wasm_v128_store(out + ci + 4, a1);
            }
            for (; ci < ci4; ci += 4) {
              v128_t a0 = wasm_v128_load(out + ci);
              for (int co = 0; co < Co; co++)
                a0 = MADD(wasm_f32x4_splat(g[co]), wasm_v128_load(f + (long)co * Ci + ci), a0);
              wasm_v128_store(out + ci, a0);
            }
            for (; ci < Ci; ci++) {
              float s = 0.0f;
              for (int co = 0; co < Co; co++) s += g[co] * f[(long)co * Ci + ci];
              out[ci] += s;
            }
          }
        }
      }
    }
  }
}

/* dst[kh,kw,co,ci] = src[kh,kw,ci,co]: the filter transpose conv_backprop_input needs. */
EXPORT(transpose_filter)
void transpose_filter(const float *src, float *dst, int taps, int Ci, int Co) {
  for (int t = 0; t < taps; t++) {
    const float *s = src + (long)t * Ci * Co;
    float *d = dst + (long)t * Ci * Co;
    for (int ci = 0; ci < Ci; ci++)
      for (int co = 0; co < Co; co++) d[(long)co * Ci + ci] = s[(long)ci * Co + co];
  }
}

/*
 * Max-pool gradient: each dy goes to the first maximum of its window (as tfjs's cpu backend and
 * TensorFlow do); padding never wins. Four channels per SIMD lane group: running max and its
 * flat input index are kept in vectors, then scattered.
 */
EXPORT(max_pool_grad)
void max_pool_grad(const float *x, const float *dy, float *dx, int N, int H, int W, int C, int OH,
                   int OW, int KH, int KW, int sh, int sw, int pt, int pl) {
  zero(dx, (u32)(N * H * W * C));
  const int c4 = C & ~3;
  for (int n = 0; n < N; n++) {
    const float *xn = x + (long)n * H * W * C;
    float *dxn = dx + (long)n * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      int h0 = oh * sh - pt, h1 = h0 + KH;
      if (h0 < 0) h0 = 0;
      if (h1 > H) h1 = H;
      for (int ow = 0; ow < OW; ow++) {
        int w0 = ow * sw - pl, w1 = w0 + KW;
        if (w0 < 0) w0 = 0;
        if (w1 > W) w1 = W;
        const float *g = dy + (((long)n * OH + oh) * OW + ow) * C;
        if (h0 >= h1 || w0 >= w1) continue;
        const int first = h0 * W + w0;
        int c = 0;
        for (; c < c4; c += 4) {
          v128_t best = wasm_v128_load(xn + (long)first * C + c);
          v128_t bestIdx = wasm_i32x4_splat(first);
          for (int h = h0; h < h1; h++) {
            for (int w = w0; w < w1; w++) {
              int idx = h * W + w;
              v128_t v = wasm_v128_load(xn + (long)idx * C + c);
              v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              bestIdx = wasm_v128_bitselect(wasm_i32x4_splat(idx), bestIdx, gt);
            }
          }
          dxn[(long)wasm_i32x4_extract_lane(bestIdx, 0) * C + c] += g[c];
          dxn[(long)wasm_i32x4_extract_lane(bestIdx, 1) * C + c + 1] += g[c + 1];
          dxn[(long)wasm_i32x4_extract_lane(bestIdx, 2) * C + c + 2] += g[c + 2];
          dxn[(long)wasm_i32x4_extract_lane(bestIdx, 3) * C + c + 3] += g[c + 3];
        }
        for (; c < C; c++) {
          float best = xn[(long)first * C + c];
          int bestIdx = first;
          for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) {
              int idx = h * W + w;
              float v = xn[(long)idx * C + c];
              if (v > best) {
                best = v;
                bestIdx = idx;
              }
            }
          dxn[(long)bestIdx * C + c] += g[c];
        }
      }
    }
  }
}

/*
 * Max pooling that also keeps, for every output, the flat input pixel (h*W + w within its image)
 * of the first maximum of its window: the same window search and tie rule as max_pool_grad, so
 * max_pool_grad_argmax below gives bit-identical gradients without searching again. Padding never
 * wins; a window entirely in the padding (impossible with tfjs's padding rules) gives -inf, index -1.
 */
EXPORT(max_pool_argmax)
void max_pool_argmax(const float *x, float *y, int *arg, int N, int H, int W, int C, int OH,
                     int OW, int KH, int KW, int sh, int sw, int pt, int pl) {
  const int c4 = C & ~3;
  for (int n = 0; n < N; n++) {
    const float *xn = x + (long)n * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      int h0 = oh * sh - pt, h1 = h0 + KH;
      if (h0 < 0) h0 = 0;
      if (h1 > H) h1 = H;
      for (int ow = 0; ow < OW; ow++) {
        int w0 = ow * sw - pl, w1 = w0 + KW;
        if (w0 < 0) w0 = 0;
        if (w1 > W) w1 = W;
        const long o = (((long)n * OH + oh) * OW + ow) * C;
        float *yp = y + o;
        int *ap = arg + o;
        if (h0 >= h1 || w0 >= w1) {
          for (int c = 0; c < C; c++) {
            yp[c] = -__builtin_inff();
            ap[c] = -1;
          }
          continue;
        }
        const int first = h0 * W + w0;
        int c = 0;
        for (; c < c4; c += 4) {
          v128_t best = wasm_v128_load(xn + (long)first * C + c);
          v128_t bestIdx = wasm_i32x4_splat(first);
          for (int h = h0; h < h1; h++) {
            for (int w = w0; w < w1; w++) {
              int idx = h * W + w;
              v128_t v = wasm_v128_load(xn + (long)idx * C + c);
              v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              bestIdx = wasm_v128_bitselect(wasm_i32x4_splat(idx), bestIdx, gt);
            }
          }
          wasm_v128_store(yp + c, best);
          wasm_v128_store(ap + c, bestIdx);
        }
        for (; c < C; c++) {
          float best = xn[(long)first * C + c];
          int bestIdx = first;
          for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) {
              int idx = h * W + w;
              float v = xn[(long)idx * C + c];
              if (v > best) {
                best = v;
                bestIdx = idx;
              }
            }
          yp[c] = best;
          ap[c] = bestIdx;
        }
      }
    }
  }
}

/* The max-pool gradient from the kept argmax: dx[n, arg, c] += dy[n, oh, ow, c]. */
EXPORT(max_pool_grad_argmax)
void max_pool_grad_argmax(const int *arg, const float *dy, float *dx, int N, int HW, int OHW,
                          int C) {
  zero(dx, (u32)(N * HW * C));
  for (int n = 0; n < N; n++) {
    float *dxn = dx + (long)n * HW * C;
    const long base = (long)n * OHW * C;
    for (int p = 0; p < OHW; p++) {
      const int *a = arg + base + (long)p * C;
      const float *g = dy + base + (long)p * C;
      for (int c = 0; c < C; c++)
        if (a[c] >= 0) dxn[(long)a[c] * C + c] += g[c];
    }
  }
}

/* dx = dy where x > 0, else 0 (the ReLU gradient in one pass). */
EXPORT(relu_grad)
void relu_grad(const float *x, const float *dy, float *dx, int n) {
  int i = 0;
  v128_t z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= n; i += 4) {
    v128_t m = wasm_f32x4_gt(wasm_v128_load(x + i), z);
    wasm_v128_store(dx + i, wasm_v128_and(wasm_v128_load(dy + i), m));
  }
  for (; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

/*
 * out[c] = scale * sum over r of x[r*C + c]: a reduction over all leading axes of a row-major
 * tensor (NHWC over N,H,W) without transposing it. Rows are summed in blocks of 256 into `part`
 * (C floats of scratch) and blocks are added into `out`, which keeps float32 rounding error low.
 */
EXPORT(sum_leading)
void sum_leading(const float *x, float *out, float *part, int rows, int C, float scale) {
  zero(out, (u32)C);
  const int c4 = C & ~3;
  for (int r0 = 0; r0 < rows; r0 += 256) {
    int r1 = r0 + 256 < rows ? r0 + 256 : rows;
    zero(part, (u32)C);
    for (int r = r0; r < r1; r++) {
      const float *row = x + (long)r * C;
      int c = 0;
      for (; c < c4; c += 4) wasm_v128_store(part + c, wasm_f32x4_add(wasm_v128_load(part + c), wasm_v128_load(row + c)));
      for (; c < C; c++) part[c] += row[c];
    }
    for (int c = 0; c < C; c++) out[c] += part[c];
  }
  if (scale != 1.0f)
    for (int c = 0; c < C; c++) out[c] *= scale;
}

/* dst[r, off:off+cs] = src[r, 0:cs] for r < rows, dst rows of cd floats (concat on the last axis). */
EXPORT(copy_into_columns)
void copy_into_columns(const float *src, float *dst, int rows, int cs, int cd, int off) {
  for (int r = 0; r < rows; r++) {
    const float *s = src + (long)r * cs;
    float *d = dst + (long)r * cd + off;
    int c = 0;
    for (; c + 4 <= cs; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
    for (; c < cs; c++) d[c] = s[c];
  }
}

/* dst[r, 0:cd] = src[r, off:off+cd] for r < rows, src rows of cs floats (split on the last axis). */
EXPORT(copy_from_columns)
void copy_from_columns(const float *src, float *dst, int rows, int cs, int cd, int off) {
  for (int r = 0; r < rows; r++) {
    const float *s = src + (long)r * cs + off;
    float *d = dst + (long)r * cd;
    int c = 0;
    for (; c + 4 <= cd; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
    for (; c < cd; c++) d[c] = s[c];
  }
}

/*
 * BatchNorm in training mode over rows of C channels (NHWC seen as [N*H*W, C]).
 * Statistics are accumulated around a per-channel shift (the first row) in float32 blocks of 256
 * rows, blocks summed in double: accurate even when |mean| >> std. Outputs y, the batch mean, the
 * biased variance and 1/sqrt(var + eps). Scratch: acc = 2*C doubles, part = 2*C floats.
 */
EXPORT(bn_train_forward)
void bn_train_forward(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                      float *var, float *invstd, double *acc, float *part, int rows, int C,
                      float eps) {
  const int c4 = C & ~3;
  float *shift = invstd; /* the first row, until invstd is written */
  float *ps = part, *pq = part + C;
  double *as = acc, *aq = acc + C;
  for (int c = 0; c < C; c++) {
    shift[c] = x[c];
    as[c] = 0.0;
    aq[c] = 0.0;
  }
  for (int r0 = 0; r0 < rows; r0 += 256) {
    int r1 = r0 + 256 < rows ? r0 + 256 : rows;
    zero(part, (u32)(2 * C));
    for (int r = r0; r < r1; r++) {
      const float *row = x + (long)r * C;
      int c = 0;
      for (; c < c4; c += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(shift + c));
        wasm_v128_store(ps + c, wasm_f32x4_add(wasm_v128_load(ps + c), d));
        wasm_v128_store(pq + c, wasm_f32x4_add(wasm_v128_load(pq + c), wasm_f32x4_mul(d, d)));
      }
      for (; c < C; c++) {
        float d = row[c] - shift[c];
        ps[c] += d;
        pq[c] += d * d;
      }
    }
    for (int c = 0; c < C; c++) {
      as[c] += (double)ps[c];
      aq[c] += (double)pq[c];
    }
  }
  float *scale = ps; /* y = (x - mean) * scale + beta: no cancellation when |mean| >> std */
  for (int c = 0; c < C; c++) {
    double m = as[c] / rows;
    double v = aq[c] / rows - m * m;
    if (v < 0.0) v = 0.0;
    float is = 1.0f / __builtin_sqrtf((float)v + eps);
    mean[c] = (float)(m + (double)shift[c]);
    var[c] = (float)v;
    invstd[c] = is;
    scale[c] = gamma[c] * is;
  }
  for (int r = 0; r < rows; r++) {
    const float *row = x + (long)r * C;
    float *out = y + (long)r * C;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
      wasm_v128_store(out + c, wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(scale + c)), wasm_v128_load(beta + c)));
    }
    for (; c < C; c++) out[c] = (row[c] - mean[c]) * scale[c] + beta[c];
  }
}

/*
 * The BatchNorm training gradient: with xhat = (x - mean) * invstd and M = rows,
 * dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * invstd / M * (M dy - dbeta - xhat dgamma).
 * Scratch: acc = 2*C doubles, part = 3*C floats.
 */
EXPORT(bn_train_backward)
void bn_train_backward(const float *x, const float *dy, const float *mean, const float *invstd,
                       const float *gamma, float *dx, float *dgamma, float *dbeta, double *acc,
                       float *part, int rows, int C) {
  const int c4 = C & ~3;
  float *pb = part, *pg = part + C;
  double *ab = acc, *ag = acc + C;
  for (int c = 0; c < C; c++) ab[c] = ag[c] = 0.0;
  for (int r0 = 0; r0 < rows; r0 += 256) {
    int r1 = r0 + 256 < rows ? r0 + 256 : rows;
    zero(part, (u32)(2 * C));
    for (int r = r0; r < r1; r++) {
      const float *xr = x + (long)r * C;
      const float *g = dy + (long)r * C;
      int c = 0;
      for (; c < c4; c += 4) {
        v128_t gv = wasm_v128_load(g + c);
        v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
        wasm_v128_store(pb + c, wasm_f32x4_add(wasm_v128_load(pb + c), gv));
        wasm_v128_store(pg + c, wasm_f32x4_add(wasm_v128_load(pg + c), wasm_f32x4_mul(gv, d)));
      }
      for (; c < C; c++) {
        pb[c] += g[c];
        pg[c] += g[c] * (xr[c] - mean[c]);
      }
    }
    for (int c = 0; c < C; c++) {
      ab[c] += (double)pb[c];
      ag[c] += (double)pg[c];
    }
  }
  /* dx = a*dy + p*(x - mean) + q, per channel */
  float *a = part, *p = part + C, *q = part + 2 * C;
  for (int c = 0; c < C; c++) {
    double db = ab[c], dg = ag[c] * (double)invstd[c];
    dbeta[c] = (float)db;
    dgamma[c] = (float)dg;
    double ac = (double)gamma[c] * (double)invstd[c];
    a[c] = (float)ac;
    p[c] = (float)(-ac * (dg / rows) * (double)invstd[c]);
    q[c] = (float)(-ac * (db / rows));
  }
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * C;
    const float *g = dy + (long)r * C;
    float *out = dx + (long)r * C;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(a + c), wasm_v128_load(g + c)),
                                wasm_f32x4_mul(wasm_v128_load(p + c), d));
      wasm_v128_store(out + c, wasm_f32x4_add(t, wasm_v128_load(q + c)));
    }
    for (; c < C; c++) out[c] = a[c] * g[c] + p[c] * (xr[c] - mean[c]) + q[c];
  }
}

/*
 * dst[kh,kw,co,ci] = src[KH-1-kh, KW-1-kw, ci, co]: the filter that turns a stride-1 convolution's
 * input gradient into a plain convolution of dy (run by XNNPACK). With Co = 1 it flips a
 * depthwise [KH,KW,C,1] filter.
 */
EXPORT(flip_transpose_filter)
void flip_transpose_filter(const float *src, float *dst, int KH, int KW, int Ci, int Co) {
  for (int kh = 0; kh < KH; kh++)
    for (int kw = 0; kw < KW; kw++) {
      const float *s = src + ((long)(KH - 1 - kh) * KW + (KW - 1 - kw)) * Ci * Co;
      float *d = dst + ((long)kh * KW + kw) * Ci * Co;
      for (int ci = 0; ci < Ci; ci++)
        for (int co = 0; co < Co; co++) d[(long)co * Ci + ci] = s[(long)ci * Co + co];
    }
}

/*
 * dW[ci,co] = sum over r of x[r,ci] * dy[r,co]: the filter gradient of a 1x1 stride-1 convolution
 * (a [Ci,rows] x [rows,Co] product). Register-blocked: 2 input channels x 16 output channels (8
 * accumulators) over row chunks of 512 that stay in cache while every block reads them.
 */
static inline __attribute__((always_inline)) void c1x1_bf(const float *x, const float *dy, float *dW,
                                                          int rows, int Ci, int Co, const int relu) {
  /* relu in the vector domain (pmax): a scalar compare could become a branch on the data. */
  const v128_t zero4 = wasm_f32x4_splat(0.0f);
  zero(dW, (u32)(Ci * Co));
  const int co16 = Co & ~15;
  const int co4 = Co & ~3;
  for (int r0 = 0; r0 < rows; r0 += 512) {
    const int r1 = r0 + 512 < rows ? r0 + 512 : rows;
    for (int co = 0; co < co16; co += 16) {
      int ci = 0;
      for (; ci + 2 <= Ci; ci += 2) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        v128_t b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int r = r0; r < r1; r++) {
          const float *g = dy + (long)r * Co + co;
          const float *xr = x + (long)r * Ci + ci;
          v128_t g0 = wasm_v128_load(g), g1 = wasm_v128_load(g + 4);
          v128_t g2 = wasm_v128_load(g + 8), g3 = wasm_v128_load(g + 12);
          v128_t s = RXV(wasm_v128_load32_splat(xr)), t = RXV(wasm_v128_load32_splat(xr + 1));
          a0 = MADD(s, g0, a0);
          a1 = MADD(s, g1, a1);
          a2 = MADD(s, g2, a2);
          a3 = MADD(s, g3, a3);
          b0 = MADD(t, g0, b0);
          b1 = MADD(t, g1, b1);
          b2 = MADD(t, g2, b2);
          b3 = MADD(t, g3, b3);
        }
        float *d0 = dW + (long)ci * Co + co, *d1 = d0 + Co;
        wasm_v128_store(d0, wasm_f32x4_add(wasm_v128_load(d0), a0));
        wasm_v128_store(d0 + 4, wasm_f32x4_add(wasm_v128_load(d0 + 4), a1));
        wasm_v128_store(d0 + 8, wasm_f32x4_add(wasm_v128_load(d0 + 8), a2));
        wasm_v128_store(d0 + 12, wasm_f32x4_add(wasm_v128_load(d0 + 12), a3));
        wasm_v128_store(d1, wasm_f32x4_add(wasm_v128_load(d1), b0));
        wasm_v128_store(d1 + 4, wasm_f32x4_add(wasm_v128_load(d1 + 4), b1));
        wasm_v128_store(d1 + 8, wasm_f32x4_add(wasm_v128_load(d1 + 8), b2));
        wasm_v128_store(d1 + 12, wasm_f32x4_add(wasm_v128_load(d1 + 12), b3));
      }
      for (; ci < Ci; ci++) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int r = r0; r < r1; r++) {
          const float *g = dy + (long)r * Co + co;
          v128_t s = RXV(wasm_v128_load32_splat(x + (long)r * Ci + ci));
          a0 = MADD(s, wasm_v128_load(g), a0);
          a1 = MADD(s, wasm_v128_load(g + 4), a1);
          a2 = MADD(s, wasm_v128_load(g + 8), a2);
          a3 = MADD(s, wasm_v128_load(g + 12), a3);
        }
        float *d0 = dW + (long)ci * Co + co;
        wasm_v128_store(d0, wasm_f32x4_add(wasm_v128_load(d0), a0));
        wasm_v128_store(d0 + 4, wasm_f32x4_add(wasm_v128_load(d0 + 4), a1));
        wasm_v128_store(d0 + 8, wasm_f32x4_add(wasm_v128_load(d0 + 8), a2));
        wasm_v128_store(d0 + 12, wasm_f32x4_add(wasm_v128_load(d0 + 12), a3));
      }
    }
    /* Output channels beyond the last multiple of 16: 4 at a time, then one at a time. */
    for (int co = co16; co < co4; co += 4)
      for (int ci = 0; ci < Ci; ci++) {
        v128_t a = wasm_f32x4_splat(0.0f);
        for (int r = r0; r < r1; r++)
          a = MADD(RXV(wasm_v128_load32_splat(x + (long)r * Ci + ci)), wasm_v128_load(dy + (long)r * Co + co), a);
        float *d = dW + (long)ci * Co + co;
        wasm_v128_store(d, wasm_f32x4_add(wasm_v128_load(d), a));
      }
    for (int co = co4; co < Co; co++)
      for (int ci = 0; ci < Ci; ci++) {
        float a = 0.0f;
        for (int r = r0; r < r1; r++) a += RX(x[(long)r * Ci + ci]) * dy[(long)r * Co + co];
        dW[(long)ci * Co + co] += a;
      }
  }
}

/* relu_x: x enters as relu(x) (a ReLU fused into the convolution after it). */
EXPORT(conv1x1_backprop_filter)
void conv1x1_backprop_filter(const float *x, const float *dy, float *dW, int rows, int Ci, int Co,
                             int relu_x) {
  if (relu_x)
    c1x1_bf(x, dy, dW, rows, Ci, Co, 1);
  else
    c1x1_bf(x, dy, dW, rows, Ci, Co, 0);
}

/*
 * y[r,co] = bias[co] + sum over k of x[r,k] * w[k,co] (bias 0 when hasBias is 0): a 1x1 stride-1
 * convolution (rows = N*H*W pixels, w = the [1,1,K,Co] filter) or, with w the transposed filter,
 * its input gradient. Register-blocked 4 rows x 8 output channels (8 accumulators); w stays in
 * cache while the rows stream through once per 8 output channels.
 */
#define MM_ROW(i, A)                                                                   \
  do {                                                                                 \
    v128_t s_ = RXV(wasm_v128_load32_splat(x##i + k));                                      \
    A##0 = MADD(s_, b0, A##0);                               \
    A##1 = MADD(s_, b1, A##1);                               \
  } while (0)

static inline __attribute__((always_inline)) void mm_body(const float *x, const float *w,
                                                          const float *bias, float *y, int rows,
                                                          int K, int Co, int hasBias,
                                                          const int relu, const float *mask) {
  const v128_t zero4 = wasm_f32x4_splat(0.0f);
  const int co8 = Co & ~7;
  const int co4 = Co & ~3;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float *x0 = x + (long)r * K, *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
    float *y0 = y + (long)r * Co, *y1 = y0 + Co, *y2 = y1 + Co, *y3 = y2 + Co;
    int co = 0;
    for (; co < co8; co += 8) {
      v128_t i0 = hasBias ? wasm_v128_load(bias + co) : wasm_f32x4_splat(0.0f);
      v128_t i1 = hasBias ? wasm_v128_load(bias + co + 4) : wasm_f32x4_splat(0.0f);
      v128_t a0 = i0, a1 = i1, c0 = i0, c1 = i1, d0 = i0, d1 = i1, e0 = i0, e1 = i1;
      const float *wp = w + co;
      for (int k = 0; k < K; k++, wp += Co) {
        v128_t b0 = wasm_v128_load(wp), b1 = wasm_v128_load(wp + 4);
        MM_ROW(0, a);
        MM_ROW(1, c);
        MM_ROW(2, d);
        MM_ROW(3, e);
      }
      STM(y0 + co, a0);
      STM(y0 + co + 4, a1);
      STM(y1 + co, c0);
      STM(y1 + co + 4, c1);
      STM(y2 + co, d0);
      STM(y2 + co + 4, d1);
      STM(y3 + co, e0);
      STM(y3 + co + 4, e1);
    }
    for (; co < co4; co += 4) {
      v128_t i0 = hasBias ? wasm_v128_load(bias + co) : wasm_f32x4_splat(0.0f);
      v128_t a = i0, c = i0, d = i0, e = i0;
      const float *wp = w + co;
      for (int k = 0; k < K; k++, wp += Co) {
        v128_t b = wasm_v128_load(wp);
        a = MADD(RXV(wasm_v128_load32_splat(x0 + k)), b, a);
        c = MADD(RXV(wasm_v128_load32_splat(x1 + k)), b, c);
        d = MADD(RXV(wasm_v128_load32_splat(x2 + k)), b, d);
        e = MADD(RXV(wasm_v128_load32_splat(x3 + k)), b, e);
      }
      STM(y0 + co, a);
      STM(y1 + co, c);
      STM(y2 + co, d);
      STM(y3 + co, e);
    }
    for (; co < Co; co++) {
      float a = hasBias ? bias[co] : 0.0f, c = a, d = a, e = a;
      for (int k = 0; k < K; k++) {
        float b = w[(long)k * Co + co];
        a += RX(x0[k]) * b;
        c += RX(x1[k]) * b;
        d += RX(x2[k]) * b;
        e += RX(x3[k]) * b;
      }
      SSM(y0 + co, a);
      SSM(y1 + co, c);
      SSM(y2 + co, d);
      SSM(y3 + co, e);
    }
  }
  for (; r < rows; r++) {
    const float *xr = x + (long)r * K;
    float *yr = y + (long)r * Co;
    int co = 0;
    for (; co < co4; co += 4) {
      v128_t a = hasBias ? wasm_v128_load(bias + co) : wasm_f32x4_splat(0.0f);
      for (int k = 0; k < K; k++)
        a = MADD(RXV(wasm_v128_load32_splat(xr + k)), wasm_v128_load(w + (long)k * Co + co), a);
      STM(yr + co, a);
    }
    for (; co < Co; co++) {
      float a = hasBias ? bias[co] : 0.0f;
      for (int k = 0; k < K; k++) a += RX(xr[k]) * w[(long)k * Co + co];
      SSM(yr + co, a);
    }
  }
}

/*
 * relu_x: x enters as relu(x) (a ReLU fused into this 1x1 convolution). mask (0: none): every
 * output element whose element of mask (same layout as y) is not > 0 is written as 0: the input
 * gradient of a ReLU fused into the convolution, the ReLU's gradient applied as it is written.
 */
EXPORT(matmul_bias)
void matmul_bias(const float *x, const float *w, const float *bias, float *y, int rows, int K,
                 int Co, int hasBias, int relu_x, const float *mask) {
  if (relu_x)
    mm_body(x, w, bias, y, rows, K, Co, hasBias, 1, mask);
  else
    mm_body(x, w, bias, y, rows, K, Co, hasBias, 0, mask);
}

/*
 * Depthwise convolution, channel multiplier 1, any stride, dilation and padding:
 * y[n,oh,ow,c] = bias[c] + sum over taps of x[n,ih,iw,c] * w[kh,kw,c], ih = oh*sh - pt + kh*dh.
 * Four channels per vector; four output pixels per block in the interior of a row (where every
 * tap is inside the input, no checks), one pixel at a time with checks at the borders.
 */
static inline v128_t dw_pixel(const float *xn, const float *w, int H, int W, int C, int c, int oh,
                              int ow, int KH, int KW, int sh, int sw, int dh, int dw, int pt,
                              int pl, v128_t acc) {
  for (int kh = 0; kh < KH; kh++) {
    int ih = oh * sh - pt + kh * dh;
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      int iw = ow * sw - pl + kw * dw;
      if (iw < 0 || iw >= W) continue;
      acc = MADD(wasm_v128_load(xn + ((long)ih * W + iw) * C + c), wasm_v128_load(w + ((long)kh * KW + kw) * C + c), acc);
    }
  }
  return acc;
}

static inline float dw_pixel1(const float *xn, const float *w, int H, int W, int C, int c, int oh,
                              int ow, int KH, int KW, int sh, int sw, int dh, int dw, int pt,
                              int pl, float acc) {
  for (int kh = 0; kh < KH; kh++) {
    int ih = oh * sh - pt + kh * dh;
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      int iw = ow * sw - pl + kw * dw;
      if (iw < 0 || iw >= W) continue;
      acc += xn[((long)ih * W + iw) * C + c] * w[((long)kh * KW + kw) * C + c];
    }
  }
  return acc;
}

EXPORT(depthwise_forward)
void depthwise_forward(const float *x, const float *w, const float *bias, float *y, int N, int H,
                       int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw,
                       int pt, int pl, int hasBias) {
  const int c4 = C & ~3;
  /* Interior columns: ow*sw - pl >= 0 and ow*sw - pl + (KW-1)*dw <= W-1. */
  int owA = ceil_div(pl, sw);
  int lastStart = W - 1 - (KW - 1) * dw + pl;
  int owB = lastStart < 0 ? 0 : lastStart / sw + 1;
  if (owA > OW) owA = OW;
  if (owB > OW) owB = OW;
  if (owB < owA) owB = owA;
  for (int n = 0; n < N; n++) {
    const float *xn = x + (long)n * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      float *yrow = y + (((long)n * OH + oh) * OW) * C;
      int kh0 = 0, kh1 = KH;
      while (kh0 < KH && oh * sh - pt + kh0 * dh < 0) kh0++;
      while (kh1 > kh0 && oh * sh - pt + (kh1 - 1) * dh >= H) kh1--;
      for (int c = 0; c < c4; c += 4) {
        v128_t b = hasBias ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
        int ow = 0;
        for (; ow < owA; ow++)
          wasm_v128_store(yrow + (long)ow * C + c, dw_pixel(xn, w, H, W, C, c, oh, ow, KH, KW, sh, sw, dh, dw, pt, pl, b));
        if (KH == 3 && KW == 3 && kh0 == 0 && kh1 == 3) {
          /* 3x3 with all rows inside: the nine filter vectors stay in registers. */
          const float *wp = w + c;
          const v128_t f00 = wasm_v128_load(wp), f01 = wasm_v128_load(wp + C), f02 = wasm_v128_load(wp + 2 * C);
          const v128_t f10 = wasm_v128_load(wp + 3 * C), f11 = wasm_v128_load(wp + 4 * C), f12 = wasm_v128_load(wp + 5 * C);
          const v128_t f20 = wasm_v128_load(wp + 6 * C), f21 = wasm_v128_load(wp + 7 * C), f22 = wasm_v128_load(wp + 8 * C);
          const long step = (long)sw * C, tap = (long)dw * C, row = (long)dh * W * C;
          for (; ow + 2 <= owB; ow += 2) {
            const float *p0 = xn + ((long)(oh * sh - pt) * W + (ow * sw - pl)) * C + c;
            const float *p1 = p0 + row, *p2 = p1 + row;
            v128_t a0 = b, a1 = b;
#define DW3(P, F0, F1, F2)                                                                    \
  a0 = MADD(wasm_v128_load(P), F0, a0);                           \
  a1 = MADD(wasm_v128_load(P + step), F0, a1);                    \
  a0 = MADD(wasm_v128_load(P + tap), F1, a0);                     \
  a1 = MADD(wasm_v128_load(P + tap + step), F1, a1);              \
  a0 = MADD(wasm_v128_load(P + 2 * tap), F2, a0);                 \
  a1 = MADD(wasm_v128_load(P + 2 * tap + step), F2, a1);
            DW3(p0, f00, f01, f02)
            DW3(p1, f10, f11, f12)
            DW3(p2, f20, f21, f22)
#undef DW3
            float *yp = yrow + (long)ow * C + c;
            wasm_v128_store(yp, a0);
            wasm_v128_store(yp + C, a1);
          }
        }
        for (; ow + 4 <= owB; ow += 4) {
          v128_t a0 = b, a1 = b, a2 = b, a3 = b;
          const long step = (long)sw * C;
          for (int kh = kh0; kh < kh1; kh++) {
            const float *xp = xn + ((long)(oh * sh - pt + kh * dh) * W + (ow * sw - pl)) * C + c;
            const float *wp = w + (long)kh * KW * C + c;
            for (int kw = 0; kw < KW; kw++, xp += (long)dw * C, wp += C) {
              v128_t f = wasm_v128_load(wp);
              a0 = MADD(wasm_v128_load(xp), f, a0);
              a1 = MADD(wasm_v128_load(xp + step), f, a1);
              a2 = MADD(wasm_v128_load(xp + 2 * step), f, a2);
              a3 = MADD(wasm_v128_load(xp + 3 * step), f, a3);
            }
          }
          float *yp = yrow + (long)ow * C + c;
          wasm_v128_store(yp, a0);
          wasm_v128_store(yp + C, a1);
          wasm_v128_store(yp + 2 * C, a2);
          wasm_v128_store(yp + 3 * C, a3);
        }
        for (; ow < OW; ow++)
          wasm_v128_store(yrow + (long)ow * C + c, dw_pixel(xn, w, H, W, C, c, oh, ow, KH, KW, sh, sw, dh, dw, pt, pl, b));
      }
      for (int c = c4; c < C; c++)
        for (int ow = 0; ow < OW; ow++)
          yrow[(long)ow * C + c] = dw_pixel1(xn, w, H, W, C, c, oh, ow, KH, KW, sh, sw, dh, dw, pt, pl, hasBias ? bias[c] : 0.0f);
    }
  }
}

/* Lane 0 of MADD(splat a, splat b, splat c): lets the loader see whether this build fuses. */
EXPORT(madd_probe)
float madd_probe(float a, float b, float c) {
  return wasm_f32x4_extract_lane(MADD(wasm_f32x4_splat(a), wasm_f32x4_splat(b), wasm_f32x4_splat(c)), 0);
}
