"""Pure value types: money in fen, months, resident ids, credit codes, region codes.

Nothing here performs I/O except the region registry loader, which is given a path.
"""
