"""The benchmark: Helpline and its peers on the same workloads, same machine, same run; reported as ratios."""
