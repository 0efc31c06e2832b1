"""What the notebooks show beyond plain client calls, one module per notebook topic: masked views of
credentials, URLs, forms and callbacks, and the "try to break it" requests. Printing is their job
(they are notebook output), so ruff's T20 is off here; none prints a secret."""
