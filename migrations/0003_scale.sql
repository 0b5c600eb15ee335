CREATE TABLE `projection_stats` (
	`minute` integer PRIMARY KEY NOT NULL,
	`batches` integer DEFAULT 0 NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`statements` integer DEFAULT 0 NOT NULL,
	`lag_sum_ms` integer DEFAULT 0 NOT NULL,
	`lag_max_ms` integer DEFAULT 0 NOT NULL,
	`lag_le_250` integer DEFAULT 0 NOT NULL,
	`lag_le_500` integer DEFAULT 0 NOT NULL,
	`lag_le_1000` integer DEFAULT 0 NOT NULL,
	`lag_le_2000` integer DEFAULT 0 NOT NULL,
	`lag_le_5000` integer DEFAULT 0 NOT NULL,
	`lag_le_10000` integer DEFAULT 0 NOT NULL,
	`lag_le_30000` integer DEFAULT 0 NOT NULL,
	`lag_over` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `traffic_minutes` (
	`minute` integer NOT NULL,
	`kind` text NOT NULL,
	`code` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`earnings` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`minute`, `kind`, `code`)
);
