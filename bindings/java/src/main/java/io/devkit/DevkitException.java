// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.charset.StandardCharsets;

/**
 * A libdevkit failure: the negative {@code DEVKIT_E*} code and the message of
 * {@code devkit_error_last()} ("what failed and why"). Each family of codes has
 * its own subclass, so callers catch what they can handle:
 *
 * <pre>{@code
 * try (Tunnel t = Tunnel.open(options)) { ... }
 * catch (HostKeyException e) { askTheUserToTrust(e.getMessage()); }
 * catch (AuthException e)    { askForAnotherKey(); }
 * catch (DevkitException e)  { show(e.getMessage()); }
 * }</pre>
 *
 * Unchecked, like the failures of java.net's newer APIs: most callers let them
 * reach one handler. A code added by a newer C library arrives as this base class.
 */
public class DevkitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int ERROR = devkit_error_code.DEVKIT_ERROR;
    public static final int EINVAL = devkit_error_code.DEVKIT_EINVAL;
    public static final int ENOMEM = devkit_error_code.DEVKIT_ENOMEM;
    public static final int EIO = devkit_error_code.DEVKIT_EIO;
    public static final int ETIMEOUT = devkit_error_code.DEVKIT_ETIMEOUT;
    public static final int ENOTFOUND = devkit_error_code.DEVKIT_ENOTFOUND;
    public static final int ECONNREFUSED = devkit_error_code.DEVKIT_ECONNREFUSED;
    public static final int EHOSTKEY = devkit_error_code.DEVKIT_EHOSTKEY;
    public static final int EAUTH = devkit_error_code.DEVKIT_EAUTH;
    public static final int EPROTO = devkit_error_code.DEVKIT_EPROTO;
    public static final int ECLOSED = devkit_error_code.DEVKIT_ECLOSED;
    public static final int EEXISTS = devkit_error_code.DEVKIT_EEXISTS;
    public static final int EUNSUPPORTED = devkit_error_code.DEVKIT_EUNSUPPORTED;
    public static final int EFORBIDDEN = devkit_error_code.DEVKIT_EFORBIDDEN;

    private final int code;

    public DevkitException(String message, int code) {
        super(message);
        this.code = code;
    }

    /** The negative {@code DEVKIT_E*} code. */
    public int code() {
        return code;
    }

    /** The library's short name for the code ("host key rejected"). */
    public String codeName() {
        return Devkit.strerror(code);
    }

    /** The exception for a code; called from C (devkit_java_throw) with the message in UTF-8. */
    static DevkitException fromNative(int code, byte[] message) {
        return of(code, new String(message, StandardCharsets.UTF_8));
    }

    static DevkitException of(int code, String message) {
        switch (code) {
            case EINVAL: return new InvalidArgumentException(message, code);
            case ENOMEM: return new NoMemoryException(message, code);
            case EIO: return new IoException(message, code);
            case ETIMEOUT: return new TimeoutException(message, code);
            case ENOTFOUND: return new NotFoundException(message, code);
            case ECONNREFUSED: return new ConnectionRefusedException(message, code);
            case EHOSTKEY: return new HostKeyException(message, code);
            case EAUTH: return new AuthException(message, code);
            case EPROTO: return new ProtocolException(message, code);
            case ECLOSED: return new ClosedException(message, code);
            case EEXISTS: return new ExistsException(message, code);
            case EUNSUPPORTED: return new UnsupportedException(message, code);
            case EFORBIDDEN: return new ForbiddenException(message, code);
            default: return new DevkitException(message, code);
        }
    }
}
