#!/usr/bin/python3
"""Qiling's memory doc: search a byte pattern, read and write strings."""
import re

import softmmu

mem = softmmu.Memory()
mem.map(0x1000, 0x2000, info='data')
mem.map(0x3000, 0x1000, info='more')
mem.write(0x1800, b'\xFF\xFE\xFD\xFC\xFB\xFA')
mem.write(0x3010, b'\xFF\xFE\xFD\xFC\xFB\xFA')

# search for a pattern from entire memory, then within a range
assert mem.search(b'\xFF\xFE\xFD\xFC\xFB\xFA') == [0x1800, 0x3010]
assert mem.search(b'\xFF\xFE\xFD\xFC\xFB\xFA', begin=0x1000, end=0x2000) == [0x1800]
# a regex, as Qiling accepts; and the hex-pattern form softmmu adds
assert mem.search(re.compile(rb'\xFF\xFE.\xFC')) == [0x1800, 0x3010]
assert mem.search('FF FE ?? FC ~00') == [0x1800, 0x3010]

# read and write a string
mem.string(0x2000, 'stringwith')
assert mem.string(0x2000) == 'stringwith'
print([hex(a) for a in mem.search(b'with')], mem.string(0x2000))
