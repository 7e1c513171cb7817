# Alerts: an operator hears about a failed run, a function that could not run, and a schedule that
# stopped running.
#   - one Notifications topic; schedule.sh publishes every run that does not end in 0 to it (and every
#     run of a schedule with notify = "always"); an optional e-mail subscription (notification_email);
#   - an alarm on the functions' custom metric `failed` > 0 (posted by every invocation, namespace
#     function_config METRICS_NAMESPACE, default compute_power);
#   - a dead-man's switch per schedule: an alarm when its function has had no `invocations` datapoint
#     for longer than the schedule's gap plus a margin (MQL absent()), which also catches a stopped
#     cron, a dead management instance and broken IAM, which no run can report itself;
#   - least privilege: the management instance may only publish (ONS_TOPIC_PUBLISH) to topics of the
#     topic's compartment; the functions may only post metrics in their namespace and compartment.
# Optional, off by default: examples of an Events rule -> function and a Connector Hub from an OCI Queue
# -> function (the functions accept both bodies).

variable "alerts_enabled" {
  type        = bool
  description = "Create the Notifications topic, the alarms and the policies that let the management instance publish and the functions post metrics."
  default     = true
}

variable "notification_email" {
  type        = string
  description = "E-mail address subscribed to the alerts topic (OCI sends a confirmation link first). null: no subscription; subscribe later in the console or with oci ons subscription create."
  default     = null

  validation {
    condition     = var.notification_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be an e-mail address such as ops@example.com, or null."
  }
}

variable "dead_mans_switch_margin_minutes" {
  type        = number
  description = "Added to a schedule's expected gap before its dead-man's switch alarm fires (cron jitter, a slow run, the metric's own delay)."
  default     = 60

  validation {
    condition     = var.dead_mans_switch_margin_minutes >= 5 && var.dead_mans_switch_margin_minutes <= 720 && floor(var.dead_mans_switch_margin_minutes) == var.dead_mans_switch_margin_minutes
    error_message = "dead_mans_switch_margin_minutes must be a whole number from 5 to 720."
  }
}

variable "event_trigger_example" {
  type = object({
    bucket_name = string
    function    = optional(string, "start")
  })
  description = "Example, off by default: an Events rule that invokes start-compute (or stop-compute) when an object is created in bucket_name. The function's EVENT_RULES maps the event to a request (see docs/functions.md)."
  default     = null

  validation {
    condition = var.event_trigger_example == null ? true : (
      contains(["start", "stop"], var.event_trigger_example.function) &&
      can(regex("^[A-Za-z0-9._-]{1,256}$", var.event_trigger_example.bucket_name))
    )
    error_message = "event_trigger_example needs a bucket_name (letters, digits, '.', '_', '-') and function \"start\" or \"stop\"."
  }
}

variable "queue_trigger_example" {
  type = object({
    function = optional(string, "start")
  })
  description = "Example, off by default: an OCI Queue and a Connector Hub that hands its messages (each a request object) to start-compute (or stop-compute) in batches."
  default     = null

  validation {
    condition     = var.queue_trigger_example == null ? true : contains(["start", "stop"], var.queue_trigger_example.function)
    error_message = "queue_trigger_example.function must be \"start\" or \"stop\"."
  }
}

locals {
  # Where the functions post their metrics: their own config (function_config), so the alarms and the
  # policy cannot disagree with it. OCI reserves the oci_ prefix: the issue's oci_compute_power cannot be
  # a custom namespace, so the functions default to compute_power.
  metrics_namespace         = lookup(var.function_config, "METRICS_NAMESPACE", "compute_power")
  metrics_compartment_id    = lookup(var.function_config, "METRICS_COMPARTMENT_ID", var.compartment_ocid)
  metrics_compartment_scope = local.metrics_compartment_id == var.tenancy_ocid ? "tenancy" : "compartment id ${local.metrics_compartment_id}"

  notification_topic_id = var.alerts_enabled ? oci_ons_notification_topic.alerts[0].id : null

  # The gap between two runs of a schedule: its expected_gap_hours, else 24 h for a schedule that runs
  # every day and 72 h (Friday to Monday) for one that runs on weekdays; any other calendar gets no
  # dead-man's switch unless expected_gap_hours says what to expect (0 turns it off).
  schedule_gap_hours = {
    for s in var.schedules : s.name => s.expected_gap_hours != null ? s.expected_gap_hours : (
      join(" ", slice(regexall("\\S+", s.cron), 2, 4)) != "* *" ? 0 :
      regexall("\\S+", s.cron)[4] == "*" ? 24 :
      contains(["1-5", "mon-fri"], lower(regexall("\\S+", s.cron)[4])) ? 72 : 0
    )
  }

  # No dead-man's switch before the functions and the management instance exist: nothing runs yet.
  dead_mans_switches = var.alerts_enabled && local.images_known ? {
    for s in var.schedules : s.name => {
      function = s.function
      minutes  = local.schedule_gap_hours[s.name] * 60 + var.dead_mans_switch_margin_minutes
    } if local.schedule_gap_hours[s.name] > 0
  } : {}
}

resource "oci_ons_notification_topic" "alerts" {
  count          = var.alerts_enabled ? 1 : 0
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-alerts"
  description    = "Failed and missed start/stop runs of ${var.name_prefix}: schedule.sh messages and alarms"
  freeform_tags  = local.common_tags
}

resource "oci_ons_subscription" "email" {
  count          = var.alerts_enabled && var.notification_email != null ? 1 : 0
  compartment_id = var.compartment_ocid
  topic_id       = oci_ons_notification_topic.alerts[0].id
  protocol       = "EMAIL"
  endpoint       = var.notification_email
  freeform_tags  = local.common_tags
}

resource "oci_monitoring_alarm" "failed" {
  count                 = var.alerts_enabled ? 1 : 0
  compartment_id        = var.compartment_ocid
  metric_compartment_id = local.metrics_compartment_id
  namespace             = local.metrics_namespace
  display_name          = "${var.name_prefix}-failed"
  query                 = "failed[5m].groupBy(function, schedule).sum() > 0"
  severity              = "CRITICAL"
  body                  = "start-compute or stop-compute reported failed instances. The schedule's log on the management instance (/var/log/oci-compute-power/<schedule>.log) and the function's invoke log say which and why."
  pending_duration      = "PT1M"
  message_format        = "ONS_OPTIMIZED"
  destinations          = [oci_ons_notification_topic.alerts[0].id]
  is_enabled            = true
  freeform_tags         = local.common_tags

  is_notifications_per_metric_dimension_enabled = true
}

resource "oci_monitoring_alarm" "dead_mans_switch" {
  for_each              = local.dead_mans_switches
  compartment_id        = var.compartment_ocid
  metric_compartment_id = local.metrics_compartment_id
  namespace             = local.metrics_namespace
  display_name          = "${var.name_prefix}-missed-${each.key}"
  query                 = format("invocations[%dm]{schedule = %q}.grouping().absent()", each.value.minutes, each.key)
  severity              = "CRITICAL"
  body                  = "Schedule ${each.key} (${each.value.function}-compute) has not run for ${each.value.minutes} minutes: check cron and the management instance, its instance principal policy, and the function."
  message_format        = "ONS_OPTIMIZED"
  destinations          = [oci_ons_notification_topic.alerts[0].id]
  is_enabled            = true
  freeform_tags         = local.common_tags
}

# IAM cannot name one topic: the Notifications policy reference defines no target.topic.* variable, so
# the statement is confined to the publish permission (not read, subscribe or manage) on the topics of
# this compartment. Keep other topics out of the compartment to make it exactly one.
resource "oci_identity_policy" "alerts" {
  # Its statements name both dynamic groups, which exist once the functions do.
  count          = var.alerts_enabled ? local.management_count : 0
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-alerts"
  description    = "The management instance may publish to the alerts topic; the functions may post metrics in their namespace only"
  freeform_tags  = local.common_tags

  statements = [
    "Allow dynamic-group ${oci_identity_dynamic_group.management[0].name} to use ons-topics in ${local.compartment_scope} where request.permission = 'ONS_TOPIC_PUBLISH'",
    "Allow dynamic-group ${oci_identity_dynamic_group.functions[0].name} to use metrics in ${local.metrics_compartment_scope} where target.metrics.namespace = '${local.metrics_namespace}'",
  ]
}

resource "oci_events_rule" "example" {
  # Names a function: exists with the functions (local.management_count).
  count          = var.event_trigger_example == null ? 0 : local.management_count
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-object-created"
  description    = "Example: an object created in ${var.event_trigger_example.bucket_name} invokes ${var.event_trigger_example.function}-compute"
  is_enabled     = true
  condition = jsonencode({
    eventType = ["com.oraclecloud.objectstorage.createobject"]
    data      = { additionalDetails = { bucketName = [var.event_trigger_example.bucket_name] } }
  })
  freeform_tags = local.common_tags

  actions {
    actions {
      action_type = "FAAS"
      is_enabled  = true
      function_id = local.function_ids[var.event_trigger_example.function]
      description = "The function maps the event to a request with its EVENT_RULES"
    }
  }
}

resource "oci_queue_queue" "example" {
  count                            = var.queue_trigger_example == null ? 0 : 1
  compartment_id                   = var.compartment_ocid
  display_name                     = "${var.name_prefix}-requests"
  retention_in_seconds             = 86400
  visibility_in_seconds            = 360
  dead_letter_queue_delivery_count = 5
  freeform_tags                    = local.common_tags
}

# Not in the filtered provider schema the tests check against (/work/shared/terraform has no oci_sch_*):
# its arguments follow the provider's documentation of oci_sch_service_connector.
resource "oci_sch_service_connector" "queue_example" {
  # Names a function: exists with the functions (local.management_count).
  count          = var.queue_trigger_example == null ? 0 : local.management_count
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-queue-to-${var.queue_trigger_example.function}"
  description    = "Example: messages of the ${var.name_prefix}-requests queue, each a request object, to ${var.queue_trigger_example.function}-compute"
  freeform_tags  = local.common_tags

  source {
    kind        = "plugin"
    plugin_name = "QueueSource"
    config_map  = jsonencode({ queueId = oci_queue_queue.example[0].id })
  }

  target {
    kind              = "functions"
    function_id       = local.function_ids[var.queue_trigger_example.function]
    batch_size_in_num = 10
    batch_time_in_sec = 5
  }
}

resource "oci_identity_policy" "queue_example" {
  count          = var.queue_trigger_example == null ? 0 : 1
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-queue-connector"
  description    = "Connectors of this compartment may read the example queue and invoke the functions"
  freeform_tags  = local.common_tags

  statements = [
    "Allow any-user to use queues in ${local.compartment_scope} where all {request.principal.type = 'serviceconnector', request.principal.compartment.id = '${var.compartment_ocid}'}",
    "Allow any-user to use fn-function in ${local.compartment_scope} where all {request.principal.type = 'serviceconnector', request.principal.compartment.id = '${var.compartment_ocid}'}",
    "Allow any-user to use fn-invocation in ${local.compartment_scope} where all {request.principal.type = 'serviceconnector', request.principal.compartment.id = '${var.compartment_ocid}'}",
  ]
}
