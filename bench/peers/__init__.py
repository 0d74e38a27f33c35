"""The peers and the bare baseline, each a small server speaking the benchmark's join/send protocol over Redis."""
