# The management instance (cron -> scripts/schedule.sh -> oci fn function invoke, with its instance
# principal) and the target instances the schedules start and stop.

data "oci_identity_availability_domains" "this" {
  compartment_id = var.tenancy_ocid

  lifecycle {
    # Single-AD regions (most of them) have only AD 1: say so instead of failing on "Invalid index".
    postcondition {
      condition     = length(self.availability_domains) >= var.availability_domain_number
      error_message = "availability_domain_number is ${var.availability_domain_number}, but region ${var.region} has ${length(self.availability_domains)} availability domain(s): set availability_domain_number to 1..${length(self.availability_domains)}."
    }
  }
}

# Newest platform image of the chosen OS and version that runs on each shape: looked up, never a
# dated image name that will be retired.
data "oci_core_images" "platform" {
  for_each = toset([var.management_shape, var.target_shape])

  compartment_id           = var.compartment_ocid
  operating_system         = var.image_operating_system
  operating_system_version = var.image_operating_system_version
  shape                    = each.value
  state                    = "AVAILABLE"
  sort_by                  = "TIMECREATED"
  sort_order               = "DESC"
}

locals {
  # Guarded so that the postcondition above, not an index error, is what a bad number meets.
  availability_domains = data.oci_identity_availability_domains.this.availability_domains
  availability_domain  = var.availability_domain_number <= length(local.availability_domains) ? local.availability_domains[var.availability_domain_number - 1].name : null

  ssh_metadata = var.ssh_public_key == null ? {} : { ssh_authorized_keys = var.ssh_public_key }

  # Scripts are gzipped: OCI caps instance metadata (user_data included) at 32,000 bytes. Null before
  # the functions exist: the instance is created with them (its crontab holds their OCIDs).
  management_cloud_init = !local.images_known ? null : templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    oci_cli_version        = var.oci_cli_version
    oci_cli_dir            = local.oci_cli_dir
    schedule_script        = local.schedule_script_path
    schedule_script_gz_b64 = base64gzip(file("${path.module}/../scripts/schedule.sh"))
    crontab_script         = local.crontab_script_path
    crontab_script_gz_b64  = base64gzip(file("${path.module}/../scripts/crontab.sh"))
    crontab_b64            = base64encode(local.crontab)
    schedules_json_b64     = base64encode(jsonencode(local.schedules_for_crontab))
    functions_env_b64 = base64encode(join("", [
      "START_FUNCTION_ID=${lookup(local.function_ids, "start", "")}\n",
      "STOP_FUNCTION_ID=${lookup(local.function_ids, "stop", "")}\n",
      "TARGET_COMPARTMENT_ID=${local.schedule_default_compartment_id}\n",
    ]))
    log_dir = var.schedule_log_dir
  })
}

# cloud-init runs once per instance: a change to the schedules, schedule.sh or the CLI version
# replaces the management instance (it holds no state but its logs) instead of an in-place update
# that would never reach the crontab.
resource "terraform_data" "management_cloud_init" {
  input = local.management_cloud_init == null ? null : sha256(local.management_cloud_init)
}

# Created by the apply that creates the functions (local.management_count): it has nothing to run
# before, and creating it then means no later apply replaces it for their OCIDs. A new image keeps a
# function's OCID, so a release leaves the instance alone.
resource "oci_core_instance" "management" {
  count = local.management_count

  compartment_id      = var.compartment_ocid
  availability_domain = local.availability_domain
  display_name        = "${var.name_prefix}-management"
  shape               = var.management_shape
  freeform_tags       = merge(local.common_tags, { "role" = "compute-power-management" })

  shape_config {
    ocpus         = var.management_ocpus
    memory_in_gbs = var.management_memory_in_gbs
  }

  source_details {
    source_type = "image"
    source_id   = data.oci_core_images.platform[var.management_shape].images[0].id
  }

  create_vnic_details {
    subnet_id        = local.management_subnet_id
    assign_public_ip = var.management_assign_public_ip
    display_name     = "${var.name_prefix}-management"
    # A hostname needs a subnet with a DNS label: the created one has it, an existing one may not.
    hostname_label = local.create_network ? "management" : null
  }

  metadata = merge(local.ssh_metadata, {
    user_data = base64encode(local.management_cloud_init)
  })

  # Instance metadata v2 only (the OCI CLI's instance principal uses /opc/v2).
  instance_options {
    are_legacy_imds_endpoints_disabled = true
  }

  launch_options {
    is_pv_encryption_in_transit_enabled = true
  }

  agent_config {
    is_monitoring_disabled = false
    is_management_disabled = false
  }

  lifecycle {
    # Half an existing network is refused by the Functions application's precondition (functions.tf).
    # A newer image must not replace the instance on a later apply; new cloud-init must.
    ignore_changes       = [source_details[0].source_id]
    replace_triggered_by = [terraform_data.management_cloud_init]
  }
}

# Before the first install's two-step apply the instance had no count: keep an existing one.
moved {
  from = oci_core_instance.management
  to   = oci_core_instance.management[0]
}

resource "oci_core_instance" "target" {
  count = var.target_instance_count

  compartment_id      = local.target_compartment_id
  availability_domain = local.availability_domain
  display_name        = "${var.name_prefix}-target-${count.index + 1}"
  shape               = var.target_shape
  # The default schedules select instances by these tags.
  freeform_tags = merge(local.common_tags, var.target_freeform_tags)

  shape_config {
    ocpus         = var.target_ocpus
    memory_in_gbs = var.target_memory_in_gbs
  }

  source_details {
    source_type = "image"
    source_id   = data.oci_core_images.platform[var.target_shape].images[0].id
  }

  create_vnic_details {
    subnet_id        = coalesce(var.target_subnet_id, local.functions_subnet_id)
    assign_public_ip = false
    display_name     = "${var.name_prefix}-target-${count.index + 1}"
  }

  metadata = local.ssh_metadata

  instance_options {
    are_legacy_imds_endpoints_disabled = true
  }

  launch_options {
    is_pv_encryption_in_transit_enabled = true
  }

  agent_config {
    is_monitoring_disabled = false
    is_management_disabled = false
  }

  lifecycle {
    # The functions change the power state; a newer image must not replace the instances.
    ignore_changes = [source_details[0].source_id, state]
  }
}
