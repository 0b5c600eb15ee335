CREATE TABLE `chain_events` (
	`block_number` integer NOT NULL,
	`block_hash` text NOT NULL,
	`log_index` integer NOT NULL,
	`tx_hash` text NOT NULL,
	`name` text NOT NULL,
	`sender` text NOT NULL,
	`open_block` integer NOT NULL,
	`args` text NOT NULL,
	PRIMARY KEY(`block_hash`, `log_index`)
);
--> statement-breakpoint
CREATE INDEX `chain_events_block` ON `chain_events` (`block_number`);--> statement-breakpoint
CREATE INDEX `chain_events_channel` ON `chain_events` (`sender`,`open_block`);--> statement-breakpoint
CREATE TABLE `channels` (
	`id` text PRIMARY KEY NOT NULL,
	`sender` text NOT NULL,
	`open_block` integer NOT NULL,
	`state` text NOT NULL,
	`deposit` text NOT NULL,
	`balance` text NOT NULL,
	`charged` text NOT NULL,
	`withdrawn` text NOT NULL,
	`withdrawable` text NOT NULL,
	`closing_balance` text,
	`settle_block` integer,
	`close_requested` integer DEFAULT false NOT NULL,
	`payments` integer DEFAULT 0 NOT NULL,
	`version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `channels_state` ON `channels` (`state`);--> statement-breakpoint
CREATE INDEX `channels_sender` ON `channels` (`sender`);--> statement-breakpoint
CREATE TABLE `receiver_txs` (
	`hash` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`sender` text NOT NULL,
	`open_block` integer NOT NULL,
	`amount` text NOT NULL,
	`nonce` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 1 NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `receiver_txs_channel` ON `receiver_txs` (`sender`,`open_block`);--> statement-breakpoint
CREATE INDEX `receiver_txs_status` ON `receiver_txs` (`status`);--> statement-breakpoint
CREATE TABLE `sync_state` (
	`id` text PRIMARY KEY NOT NULL,
	`block_number` integer NOT NULL,
	`block_hash` text NOT NULL,
	`head_block` integer,
	`events_applied` integer DEFAULT 0 NOT NULL,
	`reorgs` integer DEFAULT 0 NOT NULL,
	`last_run_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`lock_until` integer
);
