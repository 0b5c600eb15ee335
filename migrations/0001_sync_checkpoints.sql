CREATE TABLE `sync_checkpoints` (
	`block_number` integer PRIMARY KEY NOT NULL,
	`block_hash` text NOT NULL
);
