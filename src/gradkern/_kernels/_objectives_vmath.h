/* Template body of _objectives_simd.h's vector math, included once per width
 * with GK_VD / GK_VI (double / int64 vector types), GK_VS / GK_VSI (their splats),
 * GK_VN(name) (the function names of this width) and GK_VLOSS (the loss
 * function's name) defined; undefines them. No include guard. Lane for lane
 * the same IEEE operations at every width. */
GK_VINLINE GK_VD GK_VN(gk_v_sel)(GK_VI m, GK_VD a, GK_VD b)
{
    return (GK_VD)((m & (GK_VI)a) | (~m & (GK_VI)b));
}

GK_VINLINE GK_VD GK_VN(gk_v_exp_neg)(GK_VD x)
{
    GK_VI under = x < GK_VS(-708.0);
    GK_VD xc = GK_VN(gk_v_sel)(under, GK_VS(-708.0), x);
    GK_VD kd = xc * GK_VS(1.4426950408889634) + GK_VS(6755399441055744.0);
    GK_VI kbits = (GK_VI)kd;
    GK_VD r, p;
    kd = kd - GK_VS(6755399441055744.0);
    r = (xc - kd * GK_VS(6.93147180369123816490e-01)) - kd * GK_VS(1.90821492927058770002e-10);
    {   /* same Estrin scheme, same operation order as gk_exp_neg */
        GK_VD r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
        GK_VD q0 = (GK_VS(1.0) + r) + r2 * (GK_VS(0.5) + r * GK_VS(1.0 / 6.0));
        GK_VD q1 = (GK_VS(1.0 / 24.0) + r * GK_VS(1.0 / 120.0)) +
                    r2 * (GK_VS(1.0 / 720.0) + r * GK_VS(1.0 / 5040.0));
        GK_VD q2 = (GK_VS(1.0 / 40320.0) + r * GK_VS(1.0 / 362880.0)) +
                    r2 * (GK_VS(1.0 / 3628800.0) + r * GK_VS(1.0 / 39916800.0));
        GK_VD q3 = GK_VS(1.0 / 479001600.0) + r * GK_VS(1.0 / 6227020800.0);
        p = (q0 + r4 * q1) + r8 * (q2 + r4 * q3);
    }
    p = p * (GK_VD)((kbits + GK_VSI(1023)) << 52);
    return GK_VN(gk_v_sel)(under, GK_VS(0.0), p);
}

GK_VINLINE GK_VD GK_VN(gk_v_log1p_01)(GK_VD e)
{
    GK_VI hi = e > GK_VS(0.41421356237309503);
    GK_VD num = GK_VN(gk_v_sel)(hi, e - GK_VS(1.0), e);
    GK_VD den = GK_VN(gk_v_sel)(hi, e + GK_VS(3.0), e + GK_VS(2.0));
    GK_VD s = num / den, s2 = s * s, p;
    {   /* same Estrin scheme as gk_log1p_01 */
        GK_VD t2 = s2 * s2, t4 = t2 * t2, t8 = t4 * t4;
        GK_VD f0 = (GK_VS(1.0 / 3.0) + s2 * GK_VS(1.0 / 5.0)) +
                    t2 * (GK_VS(1.0 / 7.0) + s2 * GK_VS(1.0 / 9.0));
        GK_VD f1 = (GK_VS(1.0 / 11.0) + s2 * GK_VS(1.0 / 13.0)) +
                    t2 * (GK_VS(1.0 / 15.0) + s2 * GK_VS(1.0 / 17.0));
        p = (f0 + t4 * f1) + t8 * GK_VS(1.0 / 19.0);
    }
    p = (p * s2) * s;
    return GK_VN(gk_v_sel)(hi, GK_VS(0.69314718055994530942), GK_VS(0.0)) +
           (GK_VS(2.0) * s + GK_VS(2.0) * p);
}

/* Loss (times s) and dz = s * d loss / d z of 4 samples: margins zt, targets yt,
   weights st. The same IEEE operations, in the same order, as the scalar forms
   (gk_logistic_one and the loops of gk_loss_block), so lanes and scalar tails
   agree bitwise. kind is a constant wherever this is inlined in a hot loop. */
GK_VINLINE GK_VD GK_VLOSS(int kind, GK_VD zt, GK_VD yt, GK_VD st, GK_VD delta,
                             GK_VD *dz)
{
    if (kind == GK_LOSS_LOGISTIC) {
        GK_VD e, small, lp, hv, sg;
        GK_VI zb = (GK_VI)zt, pos = zb >= GK_VSI(0);
        e = GK_VN(gk_v_exp_neg)((GK_VD)(zb | GK_VSI((long long)(1ULL << 63))));
        small = e / (GK_VS(1.0) + e);
        lp = GK_VN(gk_v_log1p_01)(e);
        hv = GK_VN(gk_v_sel)(pos, GK_VS(1.0), GK_VS(0.0));
        sg = GK_VN(gk_v_sel)(pos, -small, small);
        *dz = st * ((hv - yt) + sg);
        return st * ((hv * zt - yt * zt) + lp);
    } else if (kind == GK_LOSS_HUBER) {
        GK_VD r = zt - yt, a, m;
        GK_VI sign = (GK_VI)r & GK_VSI((long long)(1ULL << 63));
        a = (GK_VD)((GK_VI)r & ~sign);                /* |r| */
        m = GK_VN(gk_v_sel)(a <= delta, a, delta);             /* |r| clipped at delta */
        *dz = st * (GK_VD)((GK_VI)m | sign);          /* copysign(m, r) */
        return st * (m * (a - GK_VS(0.5) * m));
    } else {
        GK_VD r = zt - yt;
        *dz = st * r;
        return st * (GK_VS(0.5) * r * r);
    }
}

#undef GK_VD
#undef GK_VI
#undef GK_VS
#undef GK_VSI
#undef GK_VN
#undef GK_VLOSS
