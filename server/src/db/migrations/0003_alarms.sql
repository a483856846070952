CREATE TABLE `alarms` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`type` text NOT NULL,
	`severity` text NOT NULL,
	`raised_at` integer NOT NULL,
	`last_at` integer NOT NULL,
	`cleared_at` integer,
	`count` integer DEFAULT 1 NOT NULL,
	`acked_by` text,
	`acked_by_name` text,
	`acked_at` integer,
	`ack_note` text,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alarms_open_uq` ON `alarms` (`cluster_id`,`type`) WHERE "alarms"."cleared_at" is null or "alarms"."acked_at" is null;--> statement-breakpoint
CREATE INDEX `alarms_cluster_idx` ON `alarms` (`cluster_id`,`raised_at`);--> statement-breakpoint
CREATE INDEX `alarms_raised_idx` ON `alarms` (`raised_at`);