"""The outgoing feed: case events and published answers, without personal data, as
signed webhooks and as a pull feed (GET /api/v1/feed), so that the province's
data-sharing platform can forward them to the national feedback system
(QĐ 31/2021/QĐ-TTg). docs/FEED.md is the receiver's guide."""
