"""Small statistics: median, spread and the Mann-Whitney U test."""
import functools
import math
import statistics


def median(xs):
    return statistics.median(xs)


def stdev(xs):
    """Sample standard deviation (n - 1), as Google Benchmark's aggregate."""
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def _ranks(values):
    """1-based ranks, ties given the mean of the ranks they span; also the
    tie sizes, which the variance correction needs."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


@functools.lru_cache(maxsize=64)   # compare asks for the same sizes per row
def _u_counts(m, n):
    """counts[u] = how many of the C(m+n, m) orderings of m x's and n y's
    have U = u, U counting the (x, y) pairs with x > y.  The largest element
    is an x (beating all n y's: U grows by n) or a y (U unchanged), hence
    c(i, j, u) = c(i-1, j, u-j) + c(i, j-1, u)."""
    prev = [[1] for _ in range(n + 1)]          # i = 0
    for i in range(1, m + 1):
        cur = [[1]]                             # j = 0
        for j in range(1, n + 1):
            row = [0] * (i * j + 1)
            for u, c in enumerate(prev[j]):
                row[u + j] += c
            for u, c in enumerate(cur[j - 1]):
                row[u] += c
            cur.append(row)
        prev = cur
    return prev[n]


EXACT_MAX = 30      # m + n up to which, without ties, p is exact


def mann_whitney(x, y):
    """Two-sided Mann-Whitney U test of x against y: (U of x, p-value).
    Exact distribution for small samples without ties; otherwise the
    normal approximation with tie and continuity corrections."""
    m, n = len(x), len(y)
    if not m or not n:
        raise ValueError("empty sample")
    ranks, ties = _ranks(list(x) + list(y))
    u = sum(ranks[:m]) - m * (m + 1) / 2
    small = min(u, m * n - u)
    if not ties and m + n <= EXACT_MAX:
        counts = _u_counts(m, n)
        tail = sum(counts[:int(small) + 1]) / math.comb(m + n, m)
        return u, min(1.0, 2 * tail)
    total = m + n
    var = m * n / 12 * ((total + 1) - sum(t ** 3 - t for t in ties) / (total * (total - 1)))
    if var <= 0:                                # every value equal
        return u, 1.0
    z = max(0.0, abs(u - m * n / 2) - 0.5) / math.sqrt(var)
    return u, min(1.0, math.erfc(z / math.sqrt(2)))


def min_p(m, n):
    """The smallest two-sided p the exact U test can give for sizes m, n:
    every x beyond every y.  At or above alpha, no data can be significant."""
    return min(1.0, 2.0 / math.comb(m + n, m))


def hodges_lehmann(x, y, conf=0.95):
    """Change from x to y as a ratio y/x - 1: the Hodges-Lehmann estimate
    (median of the m*n pairwise log-ratios) and its distribution-free
    interval (the k-th smallest and largest pairwise log-ratios, k from the
    exact null distribution of U, as in Lehmann's Nonparametrics 2.6).
    Returns (estimate, low, high); low/high are None when m and n are too
    small for an interval at this confidence."""
    d = sorted(math.log(b) - math.log(a) for a in x for b in y)
    m, n, N = len(x), len(y), len(d)
    mid = N // 2
    est = d[mid] if N % 2 else (d[mid - 1] + d[mid]) / 2
    counts = _u_counts(m, n)
    total = math.comb(m + n, m)
    alpha2 = (1 - conf) / 2
    # k = the largest k with P(U < k) <= alpha/2: [d_(k), d_(N-k+1)] (1-based)
    k, cum = 0, 0
    while k < len(counts) and (cum + counts[k]) / total <= alpha2:
        cum += counts[k]
        k += 1
    if k == 0:
        return math.exp(est) - 1, None, None
    return math.exp(est) - 1, math.exp(d[k - 1]) - 1, math.exp(d[N - k]) - 1


def bimodal(xs, gap=0.10):
    """True when the sorted samples split into two groups of at least three
    each, with a jump between neighbours larger than gap times the median
    and larger than the whole spread within either group.  One or two
    outliers are noise, not a second mode."""
    s = sorted(xs)
    if len(s) < 6:
        return False
    med = median(s)
    for i in range(3, len(s) - 2):
        jump = s[i] - s[i - 1]
        if jump > gap * med and jump > s[i - 1] - s[0] and jump > s[-1] - s[i]:
            return True
    return False


def _walsh_at_most(d, t2):
    """How many Walsh averages (d_i + d_j) / 2, i <= j, are at most t2 / 2;
    d sorted.  Two pointers: O(n)."""
    n, j, count = len(d), len(d) - 1, 0
    for i in range(n):
        while j >= i and d[i] + d[j] > t2:
            j -= 1
        if j < i:
            break
        count += j - i + 1
    return count


def _walsh_kth(d, k):
    """The k-th smallest (1-based) Walsh average of sorted d, by bisection
    on its value (n(n+1)/2 averages are too many to list at 25k pairs)."""
    lo, hi = d[0], d[-1]
    for _ in range(100):
        mid = (lo + hi) / 2
        if _walsh_at_most(d, 2 * mid) >= k:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-12:
            break
    return hi


def signed_rank(d, conf=0.95):
    """One-sample Wilcoxon signed-rank analysis of paired differences d
    (here log-ratios ln(B/A) of paired windows): (Hodges-Lehmann estimate
    = median of the Walsh averages, its distribution-free interval, the
    two-sided p of H0 "centred on 0").  Normal approximation of the
    signed-rank statistic with tie correction: the samples are thousands of
    pairs.  Returns (estimate, low, high, p) on the log scale."""
    d = sorted(d)
    n = len(d)
    if n < 16:
        raise ValueError("too few pairs (%d) for the signed-rank approximation" % n)
    nz = [x for x in d if x != 0.0]
    ranks, ties = _ranks([abs(x) for x in nz])
    m = len(nz)
    w = sum(r for r, x in zip(ranks, nz) if x > 0)
    var = m * (m + 1) * (2 * m + 1) / 24 - sum(t ** 3 - t for t in ties) / 48
    z = (abs(w - m * (m + 1) / 4) - 0.5) / math.sqrt(var) if var > 0 else 0.0
    p = min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))
    total = n * (n + 1) // 2
    zc = statistics.NormalDist().inv_cdf(1 - (1 - conf) / 2)
    c = int(math.floor(total / 2 - zc * math.sqrt(n * (n + 1) * (2 * n + 1) / 24)))
    c = max(c, 1)
    est = (_walsh_kth(d, (total + 1) // 2) + _walsh_kth(d, total // 2 + 1)) / 2
    return est, _walsh_kth(d, c), _walsh_kth(d, total - c + 1), p
