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
ALTER TABLE `sync_state` ADD `log_index` integer;--> statement-breakpoint
INSERT OR IGNORE INTO `dispute_queue` (`id`, `sender`, `open_block`, `closing_balance`, `settle_block`, `close_block`, `status`, `attempts`, `created_at`, `updated_at`)
  SELECT `id`, `sender`, `open_block`, COALESCE(`closing_balance`, '0'), COALESCE(`settle_block`, 0), 0, 'pending', 0, `updated_at`, `updated_at` FROM `channels` WHERE `state` = 'closing';
