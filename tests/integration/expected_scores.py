#!/usr/bin/python3
"""Prints what weir must write for each event of an Avro file, computed
independently with examples/weir_reference.py (plain Python, float64):

    event_id <tab> score <tab> label        for an event weir scores
    event_id <tab> DEAD <tab> reason        for an event weir must dead-letter

usage: expected_scores.py BUNDLE.json EVENTS.avro
Needs python3-avro (Debian).
"""
import os
import sys

from avro.datafile import DataFileReader
from avro.io import DatumReader

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
import weir_reference  # noqa: E402


def main():
    bundle = weir_reference.load(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        for event in DataFileReader(f, DatumReader()):
            try:
                score, label = weir_reference.score(bundle, event)
                print(f"{event['event_id']}\t{score!r}\t{label}")
            except weir_reference.Rejected as r:
                print(f"{event['event_id']}\tDEAD\t{r.reason}")


if __name__ == "__main__":
    main()
