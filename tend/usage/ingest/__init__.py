"""Usage-event ingestion: `parse` reads a batch, `accounts` maps its messages to accounts, `store`
is the service that stores it, `rollups` the events' rows and daily rollups."""
