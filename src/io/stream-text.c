/* SPDX-License-Identifier: MIT */
#include "io/stream-private.h"

#include <openssl/asn1.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <gio/gio.h>
#include <time.h>

/* Certificate names quoted in error messages come from the peer. */
#define TLS_TEXT_NAME_MAX  128
#define TLS_TEXT_NAMES_MAX 5

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BIO, BIO_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GENERAL_NAMES, GENERAL_NAMES_free)

/* Peer-controlled text: printable ASCII only, bounded. */
static void stream_text_append_sanitized(GString *out, const unsigned char *text, size_t len)
{
	if (len > TLS_TEXT_NAME_MAX) {
		len = TLS_TEXT_NAME_MAX;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = text[i];
		g_string_append_c(out, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
	}
}

void stream_text_append_name(GString *out, const X509_NAME *name)
{
	g_autoptr(BIO) bio = BIO_new(BIO_s_mem());
	char *text = NULL;
	long len;

	if (bio == NULL || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		g_string_append(out, "(unreadable name)");
		return;
	}
	len = BIO_get_mem_data(bio, &text);
	if (len <= 0 || text == NULL) {
		g_string_append(out, "(empty name)");
		return;
	}
	stream_text_append_sanitized(out, (const unsigned char *)text, (size_t)len);
}

void stream_text_append_time(GString *out, const ASN1_TIME *time)
{
	struct tm tm;
	char buffer[64];

	if (time == NULL || ASN1_TIME_to_tm(time, &tm) != 1 ||
	    strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		g_string_append(out, "(unreadable date)");
		return;
	}
	g_string_append(out, buffer);
}

static void stream_text_append_ip(GString *out, const ASN1_OCTET_STRING *ip)
{
	int len = ASN1_STRING_length(ip);
	g_autoptr(GInetAddress) address = NULL;
	g_autofree char *text = NULL;

	if (len == 4) {
		address =
		    g_inet_address_new_from_bytes(ASN1_STRING_get0_data(ip), G_SOCKET_FAMILY_IPV4);
	} else if (len == 16) {
		address =
		    g_inet_address_new_from_bytes(ASN1_STRING_get0_data(ip), G_SOCKET_FAMILY_IPV6);
	}
	if (address == NULL) {
		g_string_append(out, "(bad IP address)");
		return;
	}
	text = g_inet_address_to_string(address);
	g_string_append(out, text);
}

/* "a.example, b.example": subjectAltName DNS names and IP addresses, or the
 * subject CN when there are none (T5: CN-ID only as a fallback). */
void stream_text_append_cert_names(GString *out, X509 *cert)
{
	g_autoptr(GENERAL_NAMES) names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int count = names != NULL ? sk_GENERAL_NAME_num(names) : 0;
	int shown = 0;
	int index;

	for (int i = 0; i < count; i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
		if (name->type != GEN_DNS && name->type != GEN_IPADD) {
			continue;
		}
		if (shown == TLS_TEXT_NAMES_MAX) {
			g_string_append(out, " and more");
			return;
		}
		if (shown > 0) {
			g_string_append(out, ", ");
		}
		if (name->type == GEN_DNS) {
			stream_text_append_sanitized(out, ASN1_STRING_get0_data(name->d.dNSName),
			                             (size_t)ASN1_STRING_length(name->d.dNSName));
		} else {
			stream_text_append_ip(out, name->d.iPAddress);
		}
		shown++;
	}
	if (shown > 0) {
		return;
	}
	index = X509_NAME_get_index_by_NID(X509_get_subject_name(cert), NID_commonName, -1);
	if (index >= 0) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(X509_get_subject_name(cert), index));
		stream_text_append_sanitized(out, ASN1_STRING_get0_data(cn),
		                             (size_t)ASN1_STRING_length(cn));
		return;
	}
	g_string_append(out, "no host name");
}

char *stream_text_describe_verify_error(X509 *cert, const char *host, long error)
{
	GString *out = g_string_new(NULL);

	if (cert != NULL && error == X509_V_ERR_HOSTNAME_MISMATCH) {
		g_string_append(out, "host name mismatch: certificate is for ");
		stream_text_append_cert_names(out, cert);
		g_string_append_printf(out, ", not %s", host);
		return g_string_free(out, FALSE);
	}
	if (cert != NULL && error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		g_string_append(out, "IP address mismatch: certificate is for ");
		stream_text_append_cert_names(out, cert);
		g_string_append_printf(out, ", not %s", host);
		return g_string_free(out, FALSE);
	}

	g_string_append_printf(out, "certificate verify failed for %s: ", host);
	if (cert == NULL) {
		g_string_append(out, X509_verify_cert_error_string(error));
		return g_string_free(out, FALSE);
	}
	switch (error) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		g_string_append(out, "certificate '");
		stream_text_append_name(out, X509_get_subject_name(cert));
		g_string_append(out, "' expired on ");
		stream_text_append_time(out, X509_get0_notAfter(cert));
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		g_string_append(out, "certificate '");
		stream_text_append_name(out, X509_get_subject_name(cert));
		g_string_append(out, "' is not valid before ");
		stream_text_append_time(out, X509_get0_notBefore(cert));
		g_string_append(out, " (check the system clock)");
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		g_string_append(out, "self-signed certificate '");
		stream_text_append_name(out, X509_get_subject_name(cert));
		g_string_append(out, "' is not trusted");
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		g_string_append(out, "self-signed certificate in certificate chain: root '");
		stream_text_append_name(out, X509_get_subject_name(cert));
		g_string_append(out, "' is not a trusted CA");
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		g_string_append(out, "unknown issuer: '");
		stream_text_append_name(out, X509_get_issuer_name(cert));
		g_string_append(out, "' (issuer of '");
		stream_text_append_name(out, X509_get_subject_name(cert));
		g_string_append(out, "') is not a trusted CA");
		break;
	default:
		g_string_append(out, X509_verify_cert_error_string(error));
		g_string_append(out, " (certificate '");
		stream_text_append_name(out, X509_get_subject_name(cert));
		g_string_append(out, "')");
		break;
	}
	return g_string_free(out, FALSE);
}
