"""Track pages and signed links: `links` signs and checks URLs, `track` gathers what a page shows,
`pages` serves the pages and files (mounted by the API, or served alone by a bot process, `serve`)."""
