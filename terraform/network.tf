# A VCN with a private subnet for the functions (egress through NAT and service gateways) and a
# subnet for the management instance: public with an internet gateway when
# management_assign_public_ip, else private like the functions'. Created only when no existing
# subnets are given.

data "oci_core_services" "all_oci_services" {
  count = local.create_network ? 1 : 0

  filter {
    name   = "name"
    values = ["All .* Services In Oracle Services Network"]
    regex  = true
  }
}

resource "oci_core_vcn" "this" {
  count = local.create_network ? 1 : 0

  compartment_id = var.compartment_ocid
  cidr_blocks    = [var.vcn_cidr]
  display_name   = "${var.name_prefix}-vcn"
  dns_label      = "computepower"
  freeform_tags  = local.common_tags
}

# The VCN's default security list allows SSH from 0.0.0.0/0: empty it. Subnets use the lists below.
resource "oci_core_default_security_list" "this" {
  count = local.create_network ? 1 : 0

  manage_default_resource_id = oci_core_vcn.this[0].default_security_list_id
  display_name               = "${var.name_prefix}-default-empty"
  freeform_tags              = local.common_tags
}

resource "oci_core_nat_gateway" "this" {
  count = local.create_network ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-nat"
  freeform_tags  = local.common_tags
}

resource "oci_core_service_gateway" "this" {
  count = local.create_network ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-sgw"
  freeform_tags  = local.common_tags

  services {
    service_id = data.oci_core_services.all_oci_services[0].services[0].id
  }
}

resource "oci_core_internet_gateway" "this" {
  count = local.create_network && var.management_assign_public_ip ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-igw"
  enabled        = true
  freeform_tags  = local.common_tags
}

# Private subnets: OCI services through the service gateway, anything else (PyPI, package mirrors)
# through the NAT gateway.
resource "oci_core_route_table" "private" {
  count = local.create_network ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-private-rt"
  freeform_tags  = local.common_tags

  route_rules {
    network_entity_id = oci_core_service_gateway.this[0].id
    destination       = data.oci_core_services.all_oci_services[0].services[0].cidr_block
    destination_type  = "SERVICE_CIDR_BLOCK"
    description       = "OCI services (Compute, Functions, Registry) without leaving Oracle's network"
  }

  route_rules {
    network_entity_id = oci_core_nat_gateway.this[0].id
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    description       = "Outbound-only internet access"
  }
}

# Public management subnet: a route table can't send "all services" to a service gateway and
# 0.0.0.0/0 to an internet gateway at once, so everything goes through the internet gateway.
resource "oci_core_route_table" "public" {
  count = local.create_network && var.management_assign_public_ip ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-public-rt"
  freeform_tags  = local.common_tags

  route_rules {
    network_entity_id = oci_core_internet_gateway.this[0].id
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    description       = "Internet access for the management instance"
  }
}

resource "oci_core_security_list" "functions" {
  count = local.create_network ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-functions-sl"
  freeform_tags  = local.common_tags

  # Nothing calls into the functions' subnet; only path-MTU discovery messages come in.
  ingress_security_rules {
    protocol    = "1"
    source      = var.vcn_cidr
    source_type = "CIDR_BLOCK"
    stateless   = true
    description = "ICMP fragmentation needed (path MTU discovery)"

    icmp_options {
      type = 3
      code = 4
    }
  }

  egress_security_rules {
    protocol         = "6"
    destination      = "0.0.0.0/0"
    destination_type = "CIDR_BLOCK"
    stateless        = false
    description      = "HTTPS to the OCI APIs the functions call"

    tcp_options {
      min = 443
      max = 443
    }
  }
}

resource "oci_core_security_list" "management" {
  count = local.create_network ? 1 : 0

  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.this[0].id
  display_name   = "${var.name_prefix}-management-sl"
  freeform_tags  = local.common_tags

  ingress_security_rules {
    protocol    = "1"
    source      = var.vcn_cidr
    source_type = "CIDR_BLOCK"
    stateless   = true
    description = "ICMP fragmentation needed (path MTU discovery)"

    icmp_options {
      type = 3
      code = 4
    }
  }

  # SSH only from ssh_ingress_cidr (no rule at all when it is null). Stateless, so the replies need
  # the matching egress rule below.
  dynamic "ingress_security_rules" {
    for_each = var.ssh_ingress_cidr == null ? [] : [var.ssh_ingress_cidr]

    content {
      protocol    = "6"
      source      = ingress_security_rules.value
      source_type = "CIDR_BLOCK"
      stateless   = true
      description = "SSH from ssh_ingress_cidr only"

      tcp_options {
        min = 22
        max = 22
      }
    }
  }

  dynamic "egress_security_rules" {
    for_each = var.ssh_ingress_cidr == null ? [] : [var.ssh_ingress_cidr]

    content {
      protocol         = "6"
      destination      = egress_security_rules.value
      destination_type = "CIDR_BLOCK"
      stateless        = true
      description      = "SSH replies to ssh_ingress_cidr"

      tcp_options {
        source_port_range {
          min = 22
          max = 22
        }
      }
    }
  }

  egress_security_rules {
    protocol         = "6"
    destination      = "0.0.0.0/0"
    destination_type = "CIDR_BLOCK"
    stateless        = false
    description      = "HTTPS: OCI APIs (Functions invoke), OS package mirrors, PyPI for the OCI CLI"

    tcp_options {
      min = 443
      max = 443
    }
  }
}

resource "oci_core_subnet" "functions" {
  count = local.create_network ? 1 : 0

  compartment_id             = var.compartment_ocid
  vcn_id                     = oci_core_vcn.this[0].id
  cidr_block                 = var.functions_subnet_cidr
  display_name               = "${var.name_prefix}-functions"
  dns_label                  = "functions"
  prohibit_public_ip_on_vnic = true
  route_table_id             = oci_core_route_table.private[0].id
  security_list_ids          = [oci_core_security_list.functions[0].id]
  freeform_tags              = local.common_tags
}

resource "oci_core_subnet" "management" {
  count = local.create_network ? 1 : 0

  compartment_id             = var.compartment_ocid
  vcn_id                     = oci_core_vcn.this[0].id
  cidr_block                 = var.management_subnet_cidr
  display_name               = "${var.name_prefix}-management"
  dns_label                  = "management"
  prohibit_public_ip_on_vnic = !var.management_assign_public_ip
  route_table_id             = var.management_assign_public_ip ? oci_core_route_table.public[0].id : oci_core_route_table.private[0].id
  security_list_ids          = [oci_core_security_list.management[0].id]
  freeform_tags              = local.common_tags
}

locals {
  functions_subnet_id  = local.create_network ? oci_core_subnet.functions[0].id : var.existing_functions_subnet_id
  management_subnet_id = local.create_network ? oci_core_subnet.management[0].id : var.existing_management_subnet_id
}
