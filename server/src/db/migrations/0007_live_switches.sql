CREATE TABLE `live_switches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`broadcast_id` text NOT NULL,
	`at` integer NOT NULL,
	`from_input` text NOT NULL,
	`to_input` text NOT NULL,
	`reason` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `live_switches_broadcast_idx` ON `live_switches` (`broadcast_id`,`at`);--> statement-breakpoint
CREATE INDEX `live_switches_at_idx` ON `live_switches` (`at`);