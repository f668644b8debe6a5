#!/usr/bin/python3
"""rrcf_ref.py: a same-machine baseline for mw.detect.rrcf's speed.

A short pure-Python port (numpy per node, as the kLabUM `rrcf` package
does) of the streaming Robust Random Cut Forest: insert_point (random cut
of the box extended by the point, descend otherwise), forget_point
(replace the parent by the sibling, relax boxes upwards), codisp (max of
sibling / node counts up to the root), duplicates counted on their leaf.
The `rrcf` package is not in Debian; this follows its algorithm and data
layout (objects per node, a numpy box per branch) so that its cost per
point is representative. It is not used for reference numbers (the
random draws differ from moonwatch's generator).

    /usr/bin/python3 tests/tools/rrcf_ref.py [points] [trees] [tree_size] [dims]

prints points/s for insert + codisp + forget over the whole forest.
"""
import sys
import time

import numpy as np


class Leaf:
    __slots__ = ("x", "n", "u")

    def __init__(self, x):
        self.x, self.n, self.u = x, 1, None


class Branch:
    __slots__ = ("q", "p", "l", "r", "u", "n", "lo", "hi")

    def __init__(self, q, p, l, r, n, lo, hi):
        self.q, self.p, self.l, self.r, self.u, self.n, self.lo, self.hi = q, p, l, r, None, n, lo, hi


def box(node):
    return (node.x, node.x) if isinstance(node, Leaf) else (node.lo, node.hi)


class Tree:
    def __init__(self, rng):
        self.root, self.leaves, self.rng = None, {}, rng

    def query(self, x):
        node = self.root
        while isinstance(node, Branch):
            node = node.l if x[node.q] <= node.p else node.r
        return node

    def insert(self, x, index):
        if self.root is None:
            self.root = self.leaves[index] = Leaf(x)
            return self.root
        near = self.query(x)
        if (near.x == x).all():
            node = near
            while node is not None:
                node.n += 1
                node = node.u
            self.leaves[index] = near
            return near
        node = self.root
        while True:
            lo, hi = box(node)
            lo_hat, hi_hat = np.minimum(lo, x), np.maximum(hi, x)
            span = np.cumsum(hi_hat - lo_hat)
            r = self.rng.uniform(0, span[-1])
            j = int(np.searchsorted(span, r, side="right"))
            cut = lo_hat[j] + r - (span[j - 1] if j > 0 else 0.0)
            if cut < lo[j] or cut >= hi[j]:
                break
            node = node.l if x[node.q] <= node.p else node.r
        leaf = Leaf(x)
        left, right = (leaf, node) if cut < lo[j] else (node, leaf)
        branch = Branch(j, cut, left, right, node.n + 1, lo_hat, hi_hat)
        parent = node.u
        branch.u, node.u, leaf.u = parent, branch, branch
        if parent is None:
            self.root = branch
        elif parent.l is node:
            parent.l = branch
        else:
            parent.r = branch
        while parent is not None:
            parent.n += 1
            parent.lo, parent.hi = np.minimum(parent.lo, x), np.maximum(parent.hi, x)
            parent = parent.u
        self.leaves[index] = leaf
        return leaf

    def forget(self, index):
        leaf = self.leaves.pop(index)
        if leaf.n > 1:
            node = leaf
            while node is not None:
                node.n -= 1
                node = node.u
            return
        parent = leaf.u
        if parent is None:
            self.root = None
            return
        sibling = parent.r if parent.l is leaf else parent.l
        grand = parent.u
        sibling.u = grand
        if grand is None:
            self.root = sibling
            return
        if grand.l is parent:
            grand.l = sibling
        else:
            grand.r = sibling
        node = grand
        while node is not None:
            node.n -= 1
            node = node.u
        node = grand
        while node is not None:
            if not ((node.lo == leaf.x) | (node.hi == leaf.x)).any():
                break
            (llo, lhi), (rlo, rhi) = box(node.l), box(node.r)
            node.lo, node.hi = np.minimum(llo, rlo), np.maximum(lhi, rhi)
            node = node.u

    def codisp(self, leaf):
        best, node = 0.0, leaf
        while node.u is not None:
            parent = node.u
            sibling = parent.r if parent.l is node else parent.l
            best = max(best, sibling.n / node.n)
            node = parent
        return best


def main():
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    trees = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    dims = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    rng = np.random.default_rng(42)
    data = rng.normal(size=(points, dims))
    forest = [Tree(np.random.default_rng(i)) for i in range(trees)]
    start = time.process_time()
    for i in range(points):
        x = data[i]
        for tree in forest:
            tree.codisp(tree.insert(x, i))
            if len(tree.leaves) > size:
                tree.forget(i - size)
    dt = time.process_time() - start
    print(f"pure-Python rrcf port: {points} points, {trees} trees of {size}, {dims} dims: "
          f"{points / dt:.0f} points/s ({1e3 * dt / points:.2f} ms/point)")


if __name__ == "__main__":
    main()
