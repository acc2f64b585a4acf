/* CQREncode: libqrencode (QR code symbols) for TerminalQR. */
#ifndef GPHOTOSFS_CQRENCODE_SHIM_H
#define GPHOTOSFS_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
