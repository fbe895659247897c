"""Storage layer: SQLModel tables, the async engine, and query functions.

Query functions take an ``AsyncSession`` and never commit: the caller (a
service) owns the unit of work. Nothing here imports ``discord``.
"""
