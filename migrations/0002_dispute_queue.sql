CREATE TABLE `dispute_queue` (
	`id` text PRIMARY KEY NOT NULL,
	`sender` text NOT NULL,
	`open_block` integer NOT NULL,
	`closing_balance` text NOT NULL,
	`settle_block` integer NOT NULL,
	`close_block` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dispute_queue_status` ON `dispute_queue` (`status`,`settle_block`);--> statement-breakpoint
ALTER TABLE `channels` ADD `chain_read_block` integer;--> statement-breakpoint
ALTER TABLE `sync_state` ADD `log_index` integer;