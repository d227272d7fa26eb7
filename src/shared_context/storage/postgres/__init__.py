"""PostgreSQL adapter (asyncpg) for scale-out: several server instances share one database."""
