"""Peer systems side by side (Rasa 3.6 DIET, Haystack 2.x): helpers used by benchmarks/run_all.py."""
