# The golden value of PackingBoundTests' box-state test, computed outside the project with
# scipy's LP solver (HiGHS) on config/workloads/nps4-1s-spill.toml's box and cost table:
# 4 nodes x 180 GiB (720 GiB), PC1 64 GiB for 180 min (234 min spilled, 30% slower), C2 128 GiB
# and PC2 32 GiB for 10 min each. A state: L local PC1s (at most 2 a node), k spilled, c C2s,
# p PC2s, within 720 GiB; the stages under 1/32 of the box (add_pieces, tree_d, synth, c1) fit
# in any state's slack and are left out. Maximise sectors/day r with time shares x over states:
#   r <= sum x * (L/180 + k/234) * 1440,  r <= sum x * c/10 * 1440,  r <= sum x * p/10 * 1440.
# Run: python3 spill-states-lp.py  ->  74.50193050193052
import numpy as np
from scipy.optimize import linprog

states = [(L, k, c, p) for L in range(9) for k in range(12) for c in range(6) for p in range(23)
          if 64 * L + 64 * k + 128 * c + 32 * p <= 720]
n = len(states)
objective = np.zeros(n + 1); objective[-1] = -1
rows = []
for rate in (lambda L, k, c, p: (L / 180 + k / 234) * 1440, lambda L, k, c, p: c / 10 * 1440, lambda L, k, c, p: p / 10 * 1440):
    row = np.zeros(n + 1)
    for i, s in enumerate(states): row[i] = -rate(*s)
    row[-1] = 1
    rows.append(row)
result = linprog(objective, A_ub=rows, b_ub=[0, 0, 0], A_eq=[np.r_[np.ones(n), 0]], b_eq=[1], bounds=[(0, None)] * (n + 1))
print(result.x[-1])
