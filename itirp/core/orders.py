"""The order commands: submit (validation, pre-trade risk and, on the internal venue, the match,
in one synchronous step), cancel, amend, and the trading day's roll."""

from __future__ import annotations

from decimal import Decimal

from itirp.core.commands import Actor, AmendOrder, CancelOrder, ReleaseOrder, SubmitOrder, required_reason
from itirp.core.mass_cancel import CancelAll, at_external_venue, cancel_all, cancel_payload
from itirp.core.matching import INTERNAL_VENUE, Matching, order_envelope
from itirp.core.protos import (
    ORDER_TYPE_PROTO,
    SIDE_PROTO,
    STP_PROTO,
    TIF_PROTO,
    TRADING_MODE_PROTO,
    scope_proto,
    trading_day_of,
    violation_of,
    violation_proto,
)
from itirp.core.queries import TradingQueries
from itirp.core.recorder import Committed, Envelope, Item, Recorder
from itirp.core.state import TradingState, not_entitled
from itirp.domain import book as bk
from itirp.domain.accounts import Account, AccountProblem, levels_of
from itirp.domain.controls import NOT_RELEASABLE, PreTradeOrder, Settings, TradingMode, Verdict, pre_trade
from itirp.domain.instruments import Instrument, order_problems
from itirp.domain.money import format_money, parse_price
from itirp.domain.orders import NewOrder, Order, OrderStatus, OrderType, OrderValidationError, Side, Trigger
from itirp.domain.orders import validate_new_order as validate
from itirp.domain.risk import Violation, ViolationDetail, price_band_violation
from itirp.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Reason,
)
from itirp.v1 import events_pb2

__all__ = ["SIMULATED_VENUE", "VENUES", "OrderCommands"]

SIMULATED_VENUE = "simulated"
VENUES = (SIMULATED_VENUE, INTERNAL_VENUE)


class OrderCommands:
    def __init__(
        self,
        state: TradingState,
        recorder: Recorder,
        queries: TradingQueries,
        *,
        venue: str,
        max_order_quantity: int,
        settings: Settings = Settings(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> None:
        if venue not in VENUES:
            raise ValueError(f"venue must be one of {', '.join(VENUES)} (got {venue!r})")
        self._state = state
        self._recorder = recorder
        self._queries = queries
        self._matching: Matching = state.matching
        self.venue = venue
        self.max_order_quantity = max_order_quantity
        #: The controls' parameters (duplicate window, execution throttle).
        self.settings = settings

    # ------------------------------------------------------------------ the day

    def roll_day(self, now_us: int, *, correlation_id: str = "", causation_id: str = "") -> Committed | None:
        """Start a new trading day (UTC) when the clock has passed midnight: the day's DAY orders
        expire, then DAILY_VOLUME_RESET."""
        state = self._state
        today = trading_day_of(now_us)
        if not state.trading_day or today == state.trading_day:
            return None
        correlation_id = correlation_id or self._recorder.journal.new_id()
        items: list[Item] = []
        for book in self._matching.books.values():
            for order_id in book.day_orders():
                order = state.orders[order_id]
                envelope = order_envelope(order, correlation_id, causation_id)
                expired = events_pb2.OrderExpired(trading_day=state.trading_day, quantity=order.remaining_quantity)
                items.append((expired, envelope))
        payload = events_pb2.DailyVolumeReset(
            previous_trading_day=state.trading_day,
            previous_volume=format_money(state.risk.metrics().executed_volume),
            trading_day=today,
        )
        items.append((payload, {"correlation_id": correlation_id}))
        return self._recorder.emit(items, now_us)

    # ------------------------------------------------------------------ submit

    def submit(self, command: SubmitOrder, now_us: int) -> tuple[Order, Committed]:
        try:
            order = validate(command, max_quantity=self.max_order_quantity)
        except OrderValidationError as exc:
            raise InvalidArgument.of([FieldViolation(f, p) for f, p in exc.problems]) from None
        actor = command.actor
        self._refuse_duplicate(actor.user_id, order.client_order_id)
        account = self._book_to(actor, command.account)
        instrument = self._listed(order)
        if order.order_type is OrderType.MARKET and self.venue != INTERNAL_VENUE:
            raise FailedPrecondition(
                "MARKET orders need the internal venue's book to price them; this server runs the simulated venue",
                reason=Reason.MARKET_ORDER_NEEDS_BOOK,
            )
        # a new day first: yesterday's DAY orders must not price (or meet) today's first order
        self.roll_day(now_us, correlation_id=actor.correlation_id, causation_id=actor.causation_id)
        reserved_price = order.price if order.order_type is OrderType.LIMIT else self._sweep_price(order, actor.user_id)
        assert reserved_price is not None
        order_id = self._recorder.journal.new_id()
        envelope: Envelope = {
            "correlation_id": actor.correlation_id,
            "causation_id": actor.causation_id,
            "order_id": order_id,
            "user_id": actor.user_id,
            "symbol": order.symbol,
        }
        created = _created(order, actor.username)
        created.account, created.desk = account.account_id, account.desk_id
        created.intended_duplicate, created.session_id = command.intended_duplicate, command.session_id
        items: list[Item] = [(created, envelope), (events_pb2.RiskCheckStarted(), envelope)]
        levels = levels_of(account.desk_id, account.account_id, actor.username)
        checked = PreTradeOrder(
            order.symbol, order.side.value, order.quantity, reserved_price, levels, now_us, command.intended_duplicate
        )
        verdict = pre_trade(
            self._state.risk,
            self._state.controls,
            checked,
            band=self._band(instrument, order.price),
            settings=self.settings,
        )
        items[:0] = self._automatic_states(verdict, actor)
        items += self._decided(verdict.violations, order_id, actor.user_id, order, reserved_price, envelope)
        committed = self._recorder.emit(items, now_us)
        return self._state.orders[order_id], committed

    def _decided(
        self,
        violations: list[ViolationDetail],
        order_id: str,
        user_id: str,
        order: NewOrder | Order,
        reserved_price: Decimal,
        envelope: Envelope,
    ) -> list[Item]:
        """RISK_CHECK_FAILED with the violations, or RISK_CHECK_PASSED (and, on the internal venue,
        the match)."""
        if violations:
            return [(events_pb2.RiskCheckFailed(violations=[violation_proto(v) for v in violations]), envelope)]
        passed = events_pb2.RiskCheckPassed(
            reserved_notional=format_money(order.quantity * reserved_price), reserved_price=str(reserved_price)
        )
        items: list[Item] = [(passed, envelope)]
        if self.venue == INTERNAL_VENUE:
            items += self._enter_book(order_id, user_id, order, envelope)
        return items

    @staticmethod
    def _automatic_states(verdict: Verdict, actor: Actor) -> list[Item]:
        """The trading states a control changes as this order is checked (a daily loss limit
        reached: REDUCING; the execution throttle tripped: HALTED), recorded before the order."""
        items: list[Item] = []
        changes = [(s, c, TradingMode.REDUCING) for s, c in verdict.reducing]
        changes += [(s, c, TradingMode.HALTED) for s, c in verdict.halting]
        for scope, control, mode in changes:
            payload = events_pb2.TradingStateChanged(
                scope=scope_proto(scope),
                old_state=TRADING_MODE_PROTO[TradingMode.ACTIVE],
                new_state=TRADING_MODE_PROTO[mode],
                reason=f"{control} reached",
                control=control,
            )
            items.append((payload, {"correlation_id": actor.correlation_id, "causation_id": actor.causation_id}))
        return items

    def _book_to(self, actor: Actor, requested: str) -> Account:
        """The account the order is booked to: the one it names, if the trader is entitled to it,
        else the trader's default (the house account for a trader entitled to none)."""
        booked = self._state.accounts.book_to(actor.user_id, requested)
        if booked is AccountProblem.UNKNOWN_ACCOUNT:
            raise NotFound(
                f"no account {requested} (see ListEntitlements for yours)",
                reason=Reason.ACCOUNT_NOT_FOUND,
                metadata={"account_id": requested},
            )
        if booked is AccountProblem.NOT_ENTITLED:
            raise not_entitled(actor.username, requested, actor.user_id)
        assert isinstance(booked, Account)
        return booked

    def _listed(self, order: NewOrder) -> Instrument:
        """The order's instrument, if it may be traded and the order is on its grid and in its bounds."""
        symbol = order.symbol
        instrument = self._state.instruments.get(symbol)
        if instrument is None:
            raise InvalidArgument(
                "symbol",
                f"{symbol} is not a listed instrument (see ListInstruments)",
                reason=Reason.UNKNOWN_SYMBOL,
                metadata={"symbol": symbol},
            )
        if not instrument.tradable:
            raise FailedPrecondition(
                f"{symbol} is {instrument.status.value}: no new orders are accepted",
                reason=Reason.INSTRUMENT_NOT_ACTIVE,
                metadata={"symbol": symbol, "status": instrument.status.value},
            )
        problems = order_problems(instrument, order.quantity, order.price)
        if problems:
            raise InvalidArgument.of([FieldViolation(f, p) for f, p in problems])
        return instrument

    def _band(self, instrument: Instrument, price: Decimal | None) -> ViolationDetail | None:
        """PRICE_BAND: a limit price too far from the reference price (a MARKET order has none)."""
        if price is None:
            return None
        reference = self._state.reference(instrument.symbol)
        return price_band_violation(
            price,
            reference.price if reference is not None else None,
            instrument.price_band_percent,
            ticks=instrument.price_band_ticks,
            tick_size=instrument.tick_size,
        )

    def _refuse_duplicate(self, user_id: str, client_order_id: str) -> None:
        if not client_order_id:
            return
        existing = self._state.client_order_ids.get((user_id, client_order_id))
        if existing is not None:
            raise AlreadyExists(
                f"client_order_id {client_order_id!r} was already used for order {existing}",
                reason=Reason.DUPLICATE_CLIENT_ORDER_ID,
                metadata={
                    "client_order_id": client_order_id,
                    "existing_order_id": existing,
                    "order_status": self._state.orders[existing].status.value,
                },
            )

    def _sweep_price(self, order: NewOrder | Order, user_id: str) -> Decimal:
        """The worst price a MARKET order could reach in its book (what pre-trade risk counts it at)."""
        book = self._matching.books.get(order.symbol)
        price = book.sweep_price(order.side.value, order.quantity, user_id, order.stp.value) if book else None
        if price is None:
            other = "SELL" if order.side is Side.BUY else "BUY"
            opposite = book is not None and (book.best_ask() if order.side is Side.BUY else book.best_bid())
            mine = " but your own, which self-trade prevention keeps it from trading with" if opposite else ""
            raise FailedPrecondition(
                f"no {other} orders rest in the {order.symbol} book{mine}: a MARKET order has nothing to trade against",
                reason=Reason.NO_LIQUIDITY,
                metadata={"symbol": order.symbol, "side": order.side.value},
            )
        return price

    def accept(self, order_id: str, now_us: int) -> Committed:
        """Take an APPROVED order to the internal venue's book (after a restart: an order approved
        while the server ran the simulated venue, never sent)."""
        order = self._state.orders[order_id]
        if not order.can(Trigger.ORDER_ACCEPTED):
            raise FailedPrecondition(
                f"order {order_id} is {order.status.value}: only an approved order can enter the book"
            )
        envelope = order_envelope(order, order.correlation_id, order.order_id)
        return self._recorder.emit(self._enter_book(order_id, order.user_id, order, envelope), now_us)

    def _enter_book(self, order_id: str, user_id: str, order: NewOrder | Order, envelope: Envelope) -> list[Item]:
        """Match an approved order in its book now; the events that record it (`itirp.core.matching`)."""
        self._recorder.admit()  # the book moves now: only when the events that record it will be taken
        result = self._matching.submit(order_id, user_id, order)
        self._matching.hold(order_id, result)
        accepted = (events_pb2.OrderAccepted(venue=INTERNAL_VENUE), envelope)
        return [accepted, *self._match_events(result, order.quantity, envelope)]

    def _match_events(self, result: bk.SubmitResult, open_quantity: int, envelope: Envelope) -> list[Item]:
        return Matching.events_of(result, open_quantity, envelope, self._state.orders, self._recorder.journal.new_id)

    # ------------------------------------------------------------------ release

    def release(self, command: ReleaseOrder, now_us: int) -> tuple[Order, Committed]:
        """A risk manager releases an order pre-trade controls rejected (RTS 6 Art. 15(6)): the
        controls it was rejected by are overridden for it, every other control and limit is
        checked again now; ORDER_RELEASED, then RISK_CHECK_PASSED (and the match, on the internal
        venue) or RISK_CHECK_FAILED."""
        reason = required_reason(command.reason)
        actor = command.actor
        order = self._queries.visible(actor.viewer, command.order_id)
        overridden = frozenset(violation_of(v.type) for v in order.violations)
        if (
            not order.can(Trigger.ORDER_RELEASED)
            or not overridden
            or overridden & NOT_RELEASABLE
            or (order.created_us
            and trading_day_of(order.created_us) != trading_day_of(now_us))
        ):
            raise FailedPrecondition(
                f"order {order.order_id} is {order.status.value}"
                + (f" ({order.message})" if order.status is OrderStatus.REJECTED else "")
                + ": only an order rejected today by pre-trade controls other than a kill switch or a halt can be"
                " released",
                reason=Reason.ORDER_NOT_RELEASABLE,
                metadata={"order_id": order.order_id, "order_status": order.status.value},
            )
        self.roll_day(now_us, correlation_id=actor.correlation_id, causation_id=actor.causation_id)
        instrument = self._state.instruments.get(order.symbol)
        if instrument is not None and not instrument.tradable:
            raise FailedPrecondition(
                f"{order.symbol} is {instrument.status.value}: no orders are accepted",
                reason=Reason.INSTRUMENT_NOT_ACTIVE,
                metadata={"symbol": order.symbol, "status": instrument.status.value},
            )
        price = order.price if order.order_type is OrderType.LIMIT else self._sweep_price(order, order.user_id)
        assert price is not None
        band = self._band(instrument, order.price) if instrument is not None else None
        checked = PreTradeOrder(
            order.symbol, order.side.value, order.quantity, price, self._state.levels(order), now_us, True
        )
        verdict = pre_trade(
            self._state.risk, self._state.controls, checked, band=band, settings=self.settings, overridden=overridden
        )
        envelope = order_envelope(order, actor.correlation_id or order.correlation_id, actor.causation_id)
        envelope["user_id"] = actor.user_id
        released = events_pb2.OrderReleased(
            reason=reason, username=actor.username, overridden=[v.type for v in order.violations]
        )
        items = [*self._automatic_states(verdict, actor), (released, envelope)]
        items += self._decided(verdict.violations, order.order_id, order.user_id, order, price, envelope)
        return order, self._recorder.emit(items, now_us)

    # ------------------------------------------------------------------ cancel, amend

    def cancel(self, command: CancelOrder, now_us: int) -> tuple[Order, Committed | None]:
        """Cancel an order: at once when it never left the desk or rests in the internal book;
        an order that is (or may be) at an external venue becomes PENDING_CANCEL, and the executor
        asks the venue (the order may still fill until it answers). A repeat of a pending cancel
        records nothing and answers the order as it is."""
        actor = command.actor
        order = self._queries.visible(actor.viewer, command.order_id)
        payload = cancel_payload(order, command.reason)
        if payload is None:
            return order, None
        envelope = order_envelope(order, actor.correlation_id or order.correlation_id, actor.causation_id)
        envelope["user_id"] = actor.user_id
        return order, self._recorder.emit([(payload, envelope)], now_us)

    def cancel_all(self, command: CancelAll, now_us: int) -> tuple[list[Order], list[Order], Committed | None]:
        """Cancel every open order in `command.scope` (and its filters) in one step: see
        `itirp.core.mass_cancel.cancel_all`. Returns (cancelled at once, now PENDING_CANCEL, events)."""
        return cancel_all(self._state, self._recorder, command, now_us)

    def amend(self, command: AmendOrder, now_us: int) -> tuple[Order, bool, Committed]:
        """Change a resting order's total size (filled part included; 0 keeps it) and/or limit
        price. Returns (order, priority kept, events). A larger order or a new price passes
        pre-trade risk again first; refused (nothing recorded) if it breaches."""
        actor, quantity = command.actor, command.quantity
        if quantity < 0:
            raise InvalidArgument("quantity", "must be a positive whole number (0 keeps the quantity)")
        if quantity >= self.max_order_quantity:
            raise InvalidArgument("quantity", f"must be below {self.max_order_quantity:,}")
        try:
            price = parse_price(command.price) if command.price else None
        except ValueError as exc:
            raise InvalidArgument("price", str(exc)) from None
        if not quantity and price is None:
            raise InvalidArgument("amend", "give a new quantity, a new price or both")
        order = self._queries.visible(actor.viewer, command.order_id)
        order_id = order.order_id
        self.roll_day(now_us, correlation_id=actor.correlation_id, causation_id=actor.causation_id)
        book = self._matching.books.get(order.symbol)
        if book is None or order_id not in book or not order.can(Trigger.ORDER_AMENDED):
            where = (
                f"is at the {order.venue} venue, which takes no amendments: cancel it and send a new order"
                if at_external_venue(order) and not order.status.terminal
                else f"is {order.status.value}: only an order resting in the internal venue's book"
                " (WORKING or PARTIALLY_FILLED) can be amended"
            )
            raise FailedPrecondition(
                f"order {order_id} {where}",
                reason=Reason.ORDER_NOT_AMENDABLE,
                metadata={"order_id": order_id, "order_status": order.status.value},
            )
        # resting in the book: a limit order, with a reservation
        assert order.price is not None
        assert order.reserved_price is not None
        total = quantity or order.quantity
        if total <= order.filled_quantity:
            raise InvalidArgument(
                "quantity", f"must be above the {order.filled_quantity} already filled (cancel the order to stop it)"
            )
        new_price = order.price if price is None else price
        if total == order.quantity and new_price == order.price:
            raise InvalidArgument("amend", "nothing to change: give a new quantity, a new price or both")
        instrument = self._state.instruments.get(order.symbol)
        if instrument is not None:  # an order of an instrument listed since: its grid applies
            problems = order_problems(instrument, total, new_price)
            if problems:
                raise InvalidArgument.of([FieldViolation(f, p) for f, p in problems])
        open_now, open_new = order.quantity - order.filled_quantity, total - order.filled_quantity
        if open_new > open_now or new_price != order.price:
            self._check_amendment(order, open_now, open_new, new_price, now_us)
        self._recorder.admit()  # the book moves now: only when the events that record it will be taken
        result = book.amend(order_id, quantity=open_new, price=new_price)
        self._matching.hold(order_id, result)
        envelope = order_envelope(order, actor.correlation_id or order.correlation_id, actor.causation_id)
        envelope["user_id"] = actor.user_id
        amended = events_pb2.OrderAmended(
            open_quantity=open_new,
            price=str(new_price),
            quantity=total,
            priority_kept=result.priority_kept,
            reserved_price=str(new_price),
        )
        items = [(amended, envelope), *self._match_events(result, open_new, envelope)]
        return order, result.priority_kept, self._recorder.emit(items, now_us)

    def _check_amendment(self, order: Order, open_now: int, open_new: int, price: Decimal, now_us: int) -> None:
        """Pre-trade controls and limits of the amended order in place of the current one: take the
        current reservation out, check, put it back (all synchronous: nobody sees the gap). The
        duplicate-order check does not apply (it is the same order)."""
        risk, side, levels = self._state.risk, order.side.value, self._state.levels(order)
        assert order.reserved_price is not None
        instrument = self._state.instruments.get(order.symbol)
        band = self._band(instrument, price) if instrument is not None else None
        amended = PreTradeOrder(order.symbol, side, open_new, price, levels, now_us, intended_duplicate=True)
        risk.release(order.order_id)
        try:
            verdict = pre_trade(risk, self._state.controls, amended, band=band, settings=self.settings)
        finally:
            self._state.reserve(order, open_now, order.reserved_price)
        violations = verdict.violations
        if violations:
            kill = any(v.violation is Violation.KILL_SWITCH_ACTIVE for v in violations)
            raise FailedPrecondition(
                "amendment refused by pre-trade risk: " + "; ".join(v.message for v in violations),
                reason=Reason.KILL_SWITCH_ACTIVE if kill else Reason.AMENDMENT_REFUSED_BY_RISK,
                metadata={"order_id": order.order_id, "violations": ",".join(v.violation.value for v in violations)},
            )


def _created(order: NewOrder, username: str) -> events_pb2.OrderCreated:
    return events_pb2.OrderCreated(
        client_order_id=order.client_order_id,
        username=username,
        symbol=order.symbol,
        side=SIDE_PROTO[order.side],
        quantity=order.quantity,
        price=str(order.price) if order.price is not None else "",
        strategy=order.strategy,
        order_type=ORDER_TYPE_PROTO[order.order_type],
        time_in_force=TIF_PROTO[order.time_in_force],
        self_trade_prevention=STP_PROTO[order.stp],
    )
